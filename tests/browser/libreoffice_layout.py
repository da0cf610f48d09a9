"""Run by Debian's python3 (which has LibreOffice's `uno`): lay out an XLSX in LibreOffice Calc.

    python3 libreoffice_layout.py BOOK.xlsx OUT.pdf PORT PROFILE_DIR

Starts `soffice --headless` on a loopback UNO socket with its own profile, opens the book,
exports it to PDF as it is, then asks Calc for each used row's optimal height (what its
wrapped text needs) and prints JSON: the PDF's path, and per sheet each row's height as the
book sets it and as Calc needs it (1/100 mm).
"""

import contextlib
import json
import subprocess
import sys
import time

import uno
from com.sun.star.beans import PropertyValue


def _prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def main():
    """Lay the book out and print what Calc found."""
    book, pdf, port, profile = sys.argv[1:5]
    office = subprocess.Popen(
        [
            "soffice",
            "--headless",
            "--invisible",
            "--norestore",
            "--nologo",
            f"-env:UserInstallation=file://{profile}",
            f"--accept=socket,host=127.0.0.1,port={port};urp;",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext(
            "com.sun.star.bridge.UnoUrlResolver", local
        )
        deadline = time.monotonic() + 90
        while True:
            try:
                context = resolver.resolve(
                    f"uno:socket,host=127.0.0.1,port={port};urp;StarOffice.ComponentContext"
                )
                break
            except Exception:
                if time.monotonic() > deadline or office.poll() is not None:
                    raise
                time.sleep(0.3)
        desktop = context.ServiceManager.createInstanceWithContext(
            "com.sun.star.frame.Desktop", context
        )
        doc = desktop.loadComponentFromURL(
            uno.systemPathToFileUrl(book), "_blank", 0, (_prop("Hidden", True),)
        )
        doc.storeToURL(uno.systemPathToFileUrl(pdf), (_prop("FilterName", "calc_pdf_Export"),))
        sheets = {}
        for index in range(doc.Sheets.Count):
            sheet = doc.Sheets.getByIndex(index)
            cursor = sheet.createCursor()
            cursor.gotoEndOfUsedArea(False)
            last = cursor.RangeAddress.EndRow
            rows = []
            for number in range(last + 1):
                row = sheet.Rows.getByIndex(number)
                given = row.Height
                row.OptimalHeight = True
                rows.append([number + 1, given, row.Height])
            sheets[sheet.Name] = rows
        doc.close(True)
        print(json.dumps({"pdf": pdf, "sheets": sheets}))
    finally:
        with contextlib.suppress(Exception):
            desktop.terminate()
        office.terminate()
        try:
            office.wait(timeout=20)
        except subprocess.TimeoutExpired:
            office.kill()


if __name__ == "__main__":
    main()
