"""Files in and out: exports, paper import, evidence packages and their verification, report
workbooks, charts, QR codes and posters."""
