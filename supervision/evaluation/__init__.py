"""Evaluation of the agencies' data work (Art. 29): plans, indicators computed from the
platform's own records, runs, scores, ranks, adjustments and the Excel report."""
