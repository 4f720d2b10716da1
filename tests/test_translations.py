"""The Simplified Chinese catalog: complete, well-formed, current with the source, and the
language the portal speaks first.

The catalog is `locale/zh_Hans/LC_MESSAGES/django.po`; the compiled `.mo` is built by `make`
and not committed, so the page tests compile the `.po` afresh into a temporary folder and
serve from that: they always test the catalog as it is in the working tree.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

ROOT = Path(__file__).resolve().parent.parent
PO_FILE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"

# Top-level folders that hold no translatable source (the same as `makemessages --ignore`
# in the Makefile and the translation brief); every other folder is copied and scanned, so
# a new app is picked up without touching this list.
NOT_SOURCE = {".git", ".venv", "var", "tests", "bench", "node_modules", "static", "docs", "locale"}

# Wording other tests and the documentation rely on (domain glossary, regulation terms).
OFFICIAL_WORDING = {
    "Home": "首页",
    "Log in": "登录",
    "Log out": "注销",
    "Catalog": "资源目录",
    "Organizations": "机构名录",
    "Users": "用户管理",
    "Organization management": "机构管理",
    "My resources": "我的资源",
    "Catalog review": "目录审核",
    "Feedback": "目录纠错",
    "District releases": "区级目录发布",
    "Administration": "系统后台",
    "API": "接口",
    "Data requester": "数据需求方",
    "Agency staff": "部门工作人员",
    "Agency data officer": "部门数据管理员",
    "District data bureau reviewer": "区数据主管部门审核员",
    "City data bureau reviewer": "市数据主管部门审核员",
    "Authorized operator": "授权运营主体",
    "Security administrator": "安全管理员",
    "Auditor": "审计员",
    "System administrator": "系统管理员",
    "Draft": "草稿",
    "Submitted": "已提交",
    "Approved by the agency": "部门已审核",
    "Reviewed": "已审核",
    "Published": "已发布",
    "Returned for changes": "退回修改",
    "Superseded": "已被替代",
    "Retired": "已停用",
    "Submit": "提交",
    "Withdraw": "撤回",
    "Approve": "审核通过",
    "Return for changes": "退回修改",
    "Pass review": "审核通过并待发布",
    "Publish": "发布",
    "Retire": "停用",
    "Edit": "编辑",
    "Save draft": "保存草稿",
    "Save and submit": "保存并提交",
    "Please give a comment for this action.": "请填写此操作的意见。",
    "Shared unconditionally": "无条件共享",
    "Shared under conditions": "有条件共享",
    "Not shared": "不予共享",
    "Open unconditionally": "无条件开放",
    "Open under conditions": "有条件开放",
    "Not open": "不予开放",
    "Incremental": "增量更新",
    "Full": "全量更新",
    "Real time": "实时",
    "Daily": "每日",
    "Weekly": "每周",
    "Monthly": "每月",
    "Quarterly": "每季度",
    "Yearly": "每年",
    "Irregular": "不定期",
    "Simplified Chinese": "简体中文",
    "English": "English",
}


# --- a small .po reader (no third-party dependency) -----------------------------------------


@dataclass
class Message:
    msgid: str
    msgid_plural: str | None = None
    msgstrs: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    where: str = ""

    @property
    def translated(self) -> bool:
        return bool(self.msgstrs) and all(self.msgstrs)

    @property
    def fuzzy(self) -> bool:
        return "fuzzy" in self.flags

    def __str__(self) -> str:
        return f"{self.msgid!r} ({self.where or 'no reference'})"


_KEYWORD = re.compile(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) (\".*\")$")


def read_po(path: Path) -> tuple[dict[str, str], list[Message]]:
    """The header's fields and the messages of a .po file (obsolete `#~` entries skipped)."""
    header: dict[str, str] = {}
    messages: list[Message] = []
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
        fields: dict[str, str] = {}
        flags: set[str] = set()
        refs: list[str] = []
        current = None
        for line in block.splitlines():
            if line.startswith("#,"):
                flags |= {f.strip() for f in line[2:].split(",")}
            elif line.startswith("#:"):
                refs.append(line[2:].strip())
            elif line.startswith("#") or not line.strip():
                continue
            elif match := _KEYWORD.match(line):
                current = match.group(1)
                fields[current] = ast.literal_eval(match.group(2))
            elif line.startswith('"') and current:
                fields[current] += ast.literal_eval(line)
            else:
                raise AssertionError(f"{path}: cannot read line {line!r}")
        if "msgid" not in fields:
            continue
        if fields["msgid"] == "":
            for row in fields.get("msgstr", "").splitlines():
                key, _, value = row.partition(":")
                header[key.strip()] = value.strip()
            header["#flags"] = ",".join(sorted(flags))
            continue
        strs = [v for k, v in sorted(fields.items()) if k.startswith("msgstr")]
        messages.append(
            Message(
                msgid=fields["msgid"],
                msgid_plural=fields.get("msgid_plural"),
                msgstrs=strs,
                flags=flags,
                where=" ".join(refs).split(" ")[0] if refs else "",
            )
        )
    return header, messages


def msgfmt_statistics(path: Path, output: Path | str = "/dev/null") -> subprocess.CompletedProcess:
    """`msgfmt --check --statistics`: syntax, header, python-format placeholders, counts."""
    if shutil.which("msgfmt") is None:
        pytest.fail("msgfmt not found: install gettext (apt-get install gettext)")
    return subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", str(output), str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def problems(messages: list[Message]) -> list[str]:
    return [f"untranslated: {m}" for m in messages if not m.translated] + [
        f"fuzzy: {m}" for m in messages if m.fuzzy
    ]


# --- the catalog as committed ----------------------------------------------------------------


def test_catalog_compiles_cleanly_with_every_message_translated():
    result = msgfmt_statistics(PO_FILE)
    assert result.returncode == 0, result.stderr
    # e.g. "667 translated messages." and nothing about fuzzy or untranslated ones
    assert re.fullmatch(r"\d+ translated messages?\.\s*", result.stderr), result.stderr


def test_catalog_has_no_untranslated_or_fuzzy_message():
    header, messages = read_po(PO_FILE)
    assert messages, f"{PO_FILE} holds no message"
    assert problems(messages) == []
    assert "fuzzy" not in header["#flags"], "the header is still marked fuzzy"


def test_catalog_header_declares_simplified_chinese_with_one_plural_form():
    header, messages = read_po(PO_FILE)
    assert header["Language"] == "zh_Hans"
    assert header["Content-Type"] == "text/plain; charset=UTF-8"
    assert header["Plural-Forms"].replace(" ", "") == "nplurals=1;plural=0;"
    plurals = [m for m in messages if m.msgid_plural]
    assert all(len(m.msgstrs) == 1 for m in plurals), [
        str(m) for m in plurals if len(m.msgstrs) != 1
    ]


def test_translations_keep_placeholders_and_markup():
    """msgfmt checks python-format entries; this also covers template variables, HTML tags
    and entries xgettext did not flag."""
    token = re.compile(r"%\(\w+\)[sd]|\{\{\s*\w+\s*\}\}|</?[a-z][^>]*>")
    _, messages = read_po(PO_FILE)
    wrong = []
    for m in messages:
        for source in filter(None, [m.msgid, m.msgid_plural]):
            wanted = sorted(set(token.findall(source)))
            for translation in m.msgstrs:
                if sorted(set(token.findall(translation))) != wanted:
                    wrong.append(f"{m}: {translation!r}")
    assert wrong == []


def test_official_terms_use_the_glossary_wording():
    _, messages = read_po(PO_FILE)
    found = {m.msgid: m.msgstrs[0] for m in messages if not m.msgid_plural}
    wrong = {
        msgid: (found.get(msgid), chinese)
        for msgid, chinese in OFFICIAL_WORDING.items()
        if msgid in found and found[msgid] != chinese
    }
    assert wrong == {}
    # The navigation, roles and workflow terms are in the catalog at all.
    for msgid in ("Home", "Log in", "Catalog", "Data requester", "Draft", "Submit"):
        assert msgid in found


# --- the catalog against the source -----------------------------------------------------------


@pytest.fixture(scope="module")
def fresh_catalog(tmp_path_factory) -> Path:
    """The catalog merged with the strings the source uses now, as `makemessages` does for
    the team. It runs on a copy of the source folders and the catalog, because
    `makemessages` writes helper files next to the templates it reads and must never touch
    the working tree."""
    copy = tmp_path_factory.mktemp("source")
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo", "node_modules")
    for entry in ROOT.iterdir():
        if entry.name in NOT_SOURCE or entry.name.startswith("."):
            continue
        if entry.is_dir():
            shutil.copytree(entry, copy / entry.name, ignore=skip)
        elif entry.suffix in {".py", ".html", ".txt"}:
            shutil.copy2(entry, copy / entry.name)
    shutil.copytree(ROOT / "locale", copy / "locale", ignore=skip)

    cwd = os.getcwd()
    os.chdir(copy)
    try:
        with override_settings(LOCALE_PATHS=[copy / "locale"]):
            call_command(
                "makemessages",
                locale=["zh_Hans"],
                domain="django",
                ignore_patterns=["var", "node_modules"],
                no_obsolete=True,
                verbosity=0,
            )
    finally:
        os.chdir(cwd)
    return copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def test_every_source_string_has_a_chinese_translation(fresh_catalog):
    """A string added to the code or a template without a translation shows up here as
    untranslated, a changed one as fuzzy."""
    _, messages = read_po(fresh_catalog)
    missing = problems(messages)
    assert missing == [], (
        "strings in the source lack a Chinese translation; run `manage.py makemessages -l "
        "zh_Hans --ignore=.venv --ignore=var --ignore=tests --ignore=bench --no-obsolete` and "
        "translate them:\n  " + "\n  ".join(missing)
    )
    result = msgfmt_statistics(fresh_catalog)
    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr and "fuzzy" not in result.stderr, result.stderr


def test_catalog_holds_no_string_the_source_no_longer_uses(fresh_catalog):
    _, fresh = read_po(fresh_catalog)
    _, committed = read_po(PO_FILE)
    stale = {m.msgid for m in committed} - {m.msgid for m in fresh}
    assert stale == set(), "re-run makemessages with --no-obsolete to drop them"


# --- the portal speaks Chinese first ----------------------------------------------------------


@pytest.fixture
def compiled_catalog(tmp_path, settings):
    """Serve translations compiled from the working tree's .po, not a possibly stale .mo.
    Changing LOCALE_PATHS also resets Django's translation caches (and again afterwards)."""
    locale = tmp_path / "locale"
    mo_dir = locale / "zh_Hans" / "LC_MESSAGES"
    mo_dir.mkdir(parents=True)
    result = msgfmt_statistics(PO_FILE, mo_dir / "django.mo")
    assert result.returncode == 0, result.stderr
    settings.LOCALE_PATHS = [locale]
    return locale


def test_home_page_is_chinese_whatever_the_browser_asks_for(client, compiled_catalog, db):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-hans"' in html
    assert "首页" in html and "机构名录" in html
    assert "登录" in html
    # Django's own catalogs also know "Home" and "Log in"; these come from ours only.
    assert "武汉市公共数据资源平台" in html
    assert "机构名录" in html
    assert "Log in" not in html and "Organization directory" not in html


def test_language_switch_to_english_shows_the_english_page(client, compiled_catalog, db):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert '<html lang="en"' in html
    assert "Home" in html
    assert "Log in" in html
    assert "Organization directory" in html
    assert "登录" not in html and "机构名录" not in html

    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    html = client.get("/").content.decode()
    assert '<html lang="zh-hans"' in html
    assert "首页" in html and "机构名录" in html
