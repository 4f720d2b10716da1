/* The verification page: a file chosen or dropped is hashed (SHA-256) here, in the browser,
   and only its digest is sent (GET ?digest=). Web Crypto where the page is a secure context
   (HTTPS, localhost); elsewhere (plain-HTTP intranet) the vendored PdrSha256 (sha256.js),
   reading the file in slices so that memory stays small. Without JavaScript the page still
   takes a pasted digest, or a file sent to the server (size-limited). */
(function () {
  "use strict";
  var form = document.getElementById("verify-digest-form");
  var input = document.getElementById("verify-local-file");
  var zone = document.getElementById("verify-drop");
  var status = document.getElementById("verify-status");
  var field = document.getElementById("verify-digest");
  if (!form || !input || !zone || !field) return;

  var SLICE = 4 * 1024 * 1024;
  // Web Crypto takes the whole file at once: above this size the sliced hash is used.
  var WHOLE_MAX = 256 * 1024 * 1024;

  function hex(buffer) {
    var bytes = new Uint8Array(buffer), out = "";
    for (var i = 0; i < bytes.length; i++) out += ("0" + bytes[i].toString(16)).slice(-2);
    return out;
  }

  function readSlice(file, start) {
    var blob = file.slice(start, Math.min(file.size, start + SLICE));
    if (blob.arrayBuffer) return blob.arrayBuffer();
    return new Promise(function (resolve, reject) {
      var reader = new FileReader();
      reader.onload = function () { resolve(reader.result); };
      reader.onerror = function () { reject(reader.error); };
      reader.readAsArrayBuffer(blob);
    });
  }

  function slicedDigest(file) {
    var h = new window.PdrSha256();
    var step = function (start) {
      if (start >= file.size) return Promise.resolve(h.hex());
      return readSlice(file, start).then(function (buf) {
        h.update(new Uint8Array(buf));
        return step(start + SLICE);
      });
    };
    return step(0);
  }

  function digestOf(file) {
    var subtle = window.isSecureContext && window.crypto && window.crypto.subtle;
    if (subtle && file.size <= WHOLE_MAX) {
      return readWhole(file).then(function (buf) {
        return subtle.digest("SHA-256", buf);
      }).then(hex);
    }
    return slicedDigest(file);
  }

  function readWhole(file) {
    if (file.arrayBuffer) return file.arrayBuffer();
    return readSlice(file, 0);
  }

  function check(file) {
    if (!file) return;
    if (status) status.textContent = zone.getAttribute("data-hashing") || "";
    digestOf(file).then(function (digest) {
      field.value = digest;
      if (status) status.textContent = zone.getAttribute("data-local") || "";
      form.submit();
    }).catch(function (err) {
      if (status) status.textContent = String(err);
    });
  }

  input.addEventListener("change", function () { check(input.files && input.files[0]); });
  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (e) { e.preventDefault(); zone.classList.add("drop-active"); });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function () { zone.classList.remove("drop-active"); });
  });
  zone.addEventListener("drop", function (e) {
    e.preventDefault();
    var files = e.dataTransfer && e.dataTransfer.files;
    if (files && files.length) check(files[0]);
  });
})();
