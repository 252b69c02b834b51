"""A deterministic corpus of hostile, huge and broken uploads, generated in memory.

Nothing large is committed: every file is built here from a fixed recipe (bombs included, by
repeating self-contained deflate blocks, so a gigabyte-sized expansion costs milliseconds to make).
Tests run the corpus through ``python -m diagnostics inspect`` and an AppTest upload with the
upload budget lowered to :data:`UPLOAD_BUDGET_MB`, so every bomb is well over it.
"""

from __future__ import annotations

import functools
import io
import random
import struct
import zipfile
import zlib
from collections.abc import Callable

import pyarrow as pa
import pyarrow.parquet as pq

UPLOAD_BUDGET_MB = 256  # the per-upload budget the tests run with
# What one file may add to the peak memory of the process reading it, budget included: the
# budget covers what the file's content holds; the rest is DuckDB and Arrow's working space.
PEAK_ALLOWANCE_MB = UPLOAD_BUDGET_MB + 160

HEADER = "Opportunity ID,Opportunity Owner,Stage,Amount,Created Date,Close Date"
BOMB_EXPANDED = 1 << 30  # 1 GiB: four times the test budget

Recipe = Callable[[], bytes]
RECIPES: dict[str, Recipe] = {}


def _recipe(name: str) -> Callable[[Recipe], Recipe]:
    def register(build: Recipe) -> Recipe:
        RECIPES[name] = build
        return build
    return register


def _deals(n: int, owner: Callable[[int], str] = lambda i: f"Rep {i % 7}") -> list[str]:
    stages = ["Prospecting", "Demo", "Proposal", "Closed Won", "Closed Lost"]
    return [f"{i},{owner(i)},{stages[i % 5]},{1000 + i * 7},2025-01-{1 + i % 28:02d},"
            f"2025-03-{1 + i % 28:02d}" for i in range(1, n + 1)]


def _csv(lines: list[str], newline: str = "\n", encoding: str = "utf-8") -> bytes:
    return newline.join(lines).encode(encoding) + newline.encode(encoding)


# ---------------------------------------------------------------- text files

TEXT: dict[str, Callable[[], bytes]] = {
    "empty.csv": lambda: b"",
    "whitespace only.csv": lambda: b" \r\n\t\n\n   \n",
    "header only.csv": lambda: _csv([HEADER]),
    "one column.csv": lambda: _csv(["Stage"] + ["Demo"] * 20),
    "utf8 bom.csv": lambda: b"\xef\xbb\xbf" + _csv([HEADER, *_deals(30)]),
    "utf16 bom.csv": lambda: _csv([HEADER, *_deals(30)], encoding="utf-16"),
    "utf16le no bom.csv": lambda: _csv([HEADER, *_deals(30, lambda i: "Łukasz")],
                                       encoding="utf-16-le"),
    "utf16be no bom.csv": lambda: _csv([HEADER, *_deals(30, lambda i: "Zoë")],
                                       encoding="utf-16-be"),
    "cp1252.csv": lambda: _csv([HEADER.replace(",", ";"), *[
        d.replace(",", ";") for d in _deals(30, lambda i: "José Müller €")]], encoding="cp1252"),
    "cp1250 polish.csv": lambda: _csv([HEADER, *_deals(
        30, lambda i: ["Łukasz Nowak", "Paweł Kowalski", "Zofia Wójcik", "Jan Żółć"][i % 4])],
        encoding="cp1250"),
    "shift jis.csv": lambda: _csv([HEADER, *_deals(
        30, lambda i: ["山田太郎", "佐藤花子", "鈴木一郎"][i % 3])], encoding="shift_jis"),
    "cp1251 cyrillic.csv": lambda: _csv([HEADER, *_deals(
        30, lambda i: ["Иван Петров", "Ольга Смирнова"][i % 2])], encoding="cp1251"),
    "latin1 undefined bytes.csv": lambda: _csv([HEADER, *_deals(20)]) + b"99,Ren\x81e,Demo,5,"
                                          b"2025-01-01,2025-02-01\n",
    "utf8 then cp1250 late.csv": lambda: _csv([HEADER, *_deals(40_000)]) + _csv(
        ["40001,Łukasz,Demo,5,2025-01-01,2025-02-01"], encoding="cp1250"),
    "classic mac cr.csv": lambda: _csv([HEADER, *_deals(20), '99,"Ann\rLee",Demo,5,2025-01-01,'
                                        '2025-02-01'], newline="\r"),
    "mixed line endings.csv": lambda: (HEADER + "\r\n" + "\r".join(_deals(10)) + "\n"
                                       + "\r\n".join(_deals(10)) + '\r99,"A\rB",Demo,5,,\n'
                                       ).encode(),
    "big quoted cell near top.csv": lambda: _csv(
        [HEADER + ",Notes", '1,Ann,Demo,5,2025-01-01,2025-02-01,"' + "x" * 200_000 + '"',
         *(d + ",ok" for d in _deals(50)[1:])]),
    "five mb single cell.csv": lambda: _csv(
        [HEADER + ",Notes", '1,Ann,Demo,5,2025-01-01,2025-02-01,"' + "y\n" * 2_500_000 + '"']),
    "unterminated quote line 12.csv": lambda: _csv(
        [HEADER, *_deals(10), '11,"Ann,Demo,5,2025-01-01,2025-02-01', *_deals(300)[11:]]),
    "stray quote late in 20000 rows.csv": lambda: _csv(
        [HEADER, *_deals(19_000), '19001,"Bo,Demo,5,2025-01-01,2025-02-01',
         *_deals(20_000)[19_001:]]),
    "stray quote closed by another.csv": lambda: _csv(
        [HEADER, *_deals(100), '101,"Cy,Demo,5,2025-01-01,2025-02-01', *_deals(110)[101:108],
         '109,Di",Demo,5,2025-01-01,2025-02-01', *_deals(300)[109:]]),
    "many broken quotes.csv": lambda: _csv(
        [HEADER, *(f'{i},"Rep,Demo,5,2025-01-01,2025-02-01' if i % 3 == 0 else
                   f"{i},Rep,Demo,5,2025-01-01,2025-02-01" for i in range(1, 400))]),
    "random bytes no nul.bin.csv": lambda: random.Random(17).randbytes(50_000).replace(
        b"\x00", b"\x01"),
    "random printable bytes.csv": lambda: bytes(
        b for b in random.Random(19).randbytes(80_000) if b >= 0x20)[:50_000],
    "random bytes with nul.csv": lambda: random.Random(18).randbytes(50_000),
    "nul after the sample.csv": lambda: _csv([HEADER, *_deals(20_000)]) + b"1,\x00\x00,Demo\n",
    "control characters.csv": lambda: _csv([HEADER, *_deals(30, lambda i: f"Rep\x07{i}\x1b")]),
    "ragged rows.csv": lambda: _csv([HEADER, *_deals(30), "31,Ann", "32,Bo,Demo,1,2,3,4,5,6"]),
    "footer lines.csv": lambda: _csv([HEADER, *_deals(30), "", "Grand Total,,,99999,,",
                                      "Confidential - generated by Salesforce.com"]),
    "blank rows only after header.csv": lambda: _csv([HEADER, ",,,,,", ",,,,,", ""]),
    "only delimiters.csv": lambda: _csv([",,,,,"] * 40),
    "formula cells.csv": lambda: _csv([HEADER, *_deals(
        30, lambda i: ["=HYPERLINK(\"http://x.example/\")", "+1+1", "-2", "@SUM(A1)",
                       "\tTab"][i % 5])]),
    "markdown and html names.csv": lambda: _csv([HEADER, *_deals(30, lambda i: [
        "![x](http://evil.example/p.png)", "[click](http://evil.example)", "**bold**",
        "<script>alert(1)</script>", "`code`", "$x^2$", "# Heading"][i % 7])]),
    "sql in headers.csv": lambda: _csv(['"id""; DROP TABLE deals; --",Stage,"Amount\')--",'
                                        'Owner', *(f"{i},Demo,{i},Ann" for i in range(30))]),
    "reserved header names.csv": lambda: _csv(["_line,c0,c1,_reason,Stage,Amount",
                                               *(f"{i},a,b,c,Demo,{i}" for i in range(30))]),
    "duplicate headers.csv": lambda: _csv(["Stage,Stage,Amount,Amount,Owner,Owner",
                                           *(f"Demo,Won,{i},{i},A,B" for i in range(30))]),
    "two thousand columns.csv": lambda: _csv(
        [HEADER + "," + ",".join(f"x{i}" for i in range(2000)),
         *(d + "," + ",".join("1" for _ in range(2000)) for d in _deals(50))]),
    "very long header.csv": lambda: _csv(["H" * 100_000 + ",Stage,Amount",
                                          *(f"a,Demo,{i}" for i in range(30))]),
    "nan and infinite amounts.csv": lambda: _csv([HEADER, *(
        f"{i},Ann,Closed Won,{['nan', 'inf', '-inf', '1e308', '1e309', 'NaN'][i % 6]},"
        f"2025-01-01,2025-02-01" for i in range(1, 31))]),
    "impossible years.csv": lambda: _csv([HEADER, *(
        f"{i},Ann,Closed Won,5,{['0001-01-01', '9999-12-31', '1900-02-29', '2025-02-30'][i % 4]},"
        f"{['0001-03-04', '01/01/0001', '2025-01-01', '31/12/9999'][i % 4]}"
        for i in range(1, 31))]),
    "all deals have the same id.csv": lambda: _csv([HEADER, *(
        f"1,Ann,Demo,{i},2025-01-01,2025-02-01" for i in range(30))]),
    "emoji rtl zero width.csv": lambda: _csv([HEADER, *_deals(30, lambda i: [
        "🚀 Ana", "مريم", "A\u200bnn", "\u202eevil", "Ｆｕｌｌ"][i % 5])]),
    "tabs pipes decimal comma.tsv": lambda: _csv([
        "Opportunity ID\tStage\tAmount\tOwner",
        *(f"{i}\tDemo\t1.234,{i % 100:02d} €\tAnn|Bo" for i in range(30))]),
    "deep markdown file name [x](http-evil).csv": lambda: _csv([HEADER, *_deals(10)]),
    "xlsx named but csv.xlsx": lambda: _csv([HEADER, *_deals(10)]),
    "old xls.xls.csv": lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600),
    "activities only.csv": lambda: _csv(["Activity ID,Assigned,Date,Type", *(
        f"{i},Ann,2025-01-{1 + i % 28:02d},Call" for i in range(30))]),
}
for _name, _build in TEXT.items():
    RECIPES[_name] = _build


# ---------------------------------------------------------------- xlsx


def _xlsx(sheet_xml: bytes, strings_xml: bytes | None = None) -> bytes:
    files = {
        "[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats'
        b'.org/package/2006/content-types"><Default Extension="rels" ContentType="application/'
        b'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
        b'"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd'
        b'.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/'
        b'worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        b'spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels": b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats'
        b'.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxml'
        b'formats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"'
        b'/></Relationships>',
        "xl/workbook.xml": b'<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.'
        b'org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/'
        b'2006/relationships"><sheets><sheet name="Deals" sheetId="1" r:id="rId1"/></sheets>'
        b'</workbook>',
        "xl/_rels/workbook.xml.rels": b'<?xml version="1.0"?><Relationships xmlns="http://schemas'
        b'.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
        b'schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target='
        b'"worksheets/sheet1.xml"/>'
        + (b'<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
           b'relationships/sharedStrings" Target="sharedStrings.xml"/>' if strings_xml else b"")
        + b"</Relationships>",
        "xl/worksheets/sheet1.xml": sheet_xml,
    }
    if strings_xml is not None:
        files["xl/sharedStrings.xml"] = strings_xml
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _sheet(rows: list[list[str]], dimension: str | None = None,
           extra: bytes = b"") -> bytes:
    from xml.sax.saxutils import escape

    body = []
    for r, row in enumerate(rows, start=1):
        cells = "".join(
            f'<c r="{chr(65 + c)}{r}" t="inlineStr"><is><t>{escape(v)}</t></is></c>'
            for c, v in enumerate(row))
        body.append(f'<row r="{r}">{cells}</row>')
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
            b'spreadsheetml/2006/main">' + dim.encode() + b"<sheetData>"
            + "".join(body).encode() + extra + b"</sheetData></worksheet>")


def _deal_rows(n: int, owner: str = "Ann") -> list[list[str]]:
    return [HEADER.split(","), *([c if k != 1 else owner for k, c in enumerate(d.split(","))]
                                 for d in _deals(n))]


def _bomb_entry(name: str, prefix: bytes, fill: bytes, suffix: bytes, size: int) -> bytes:
    """Return a zip holding one entry of ``size`` bytes, built from repeated deflate blocks."""
    chunk = fill * ((1 << 20) // len(fill))
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = packer.compress(chunk) + packer.flush(zlib.Z_FULL_FLUSH)
    head_packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = head_packer.compress(prefix) + head_packer.flush(zlib.Z_FULL_FLUSH)
    tail_packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    tail = tail_packer.compress(suffix) + tail_packer.flush(zlib.Z_FINISH)
    repeats = size // len(chunk)
    crc = zlib.crc32(prefix)
    for _ in range(repeats):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(suffix, crc)
    data = head + block * repeats + tail
    total = len(prefix) + len(chunk) * repeats + len(suffix)
    raw_name = name.encode()
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(data),
                        total, len(raw_name), 0) + raw_name
    central = struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc,
                          len(data), total, len(raw_name), 0, 0, 0, 0, 0, 0) + raw_name
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, len(central),
                      len(local) + len(data), 0)
    return local + data + central + end


def _with_entry(base: bytes, entry_zip: bytes) -> bytes:
    """Return ``base`` (an xlsx) with the single entry of ``entry_zip`` replacing its namesake."""
    bomb = zipfile.ZipFile(io.BytesIO(entry_zip))
    bomb_name = bomb.infolist()[0].filename
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            if info.filename != bomb_name:
                target.writestr(info, source.read(info), compress_type=zipfile.ZIP_DEFLATED)
    merged = out.getvalue()
    # Append the bomb's local entry and rebuild the directory by hand (its data is not re-packed).
    with zipfile.ZipFile(io.BytesIO(merged)) as kept:
        infos = kept.infolist()
    end_at = merged.rfind(b"PK\x05\x06")
    central_at = struct.unpack("<I", merged[end_at + 16:end_at + 20])[0]
    central_size = struct.unpack("<I", merged[end_at + 12:end_at + 16])[0]
    bomb_end = entry_zip.rfind(b"PK\x05\x06")
    bomb_central_at = struct.unpack("<I", entry_zip[bomb_end + 16:bomb_end + 20])[0]
    bomb_local = entry_zip[:bomb_central_at]
    bomb_central = bytearray(entry_zip[bomb_central_at:bomb_end])
    struct.pack_into("<I", bomb_central, 42, central_at)  # its local header's new offset
    central = merged[central_at:central_at + central_size] + bytes(bomb_central)
    body = merged[:central_at] + bomb_local
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(infos) + 1, len(infos) + 1,
                      len(central), len(body), 0)
    return body + central + end


XLSX: dict[str, Callable[[], bytes]] = {
    "plain.xlsx": lambda: _xlsx(_sheet(_deal_rows(40), "A1:F41")),
    "polish names.xlsx": lambda: _xlsx(_sheet(_deal_rows(20, "Łódź Łukasz"), "A1:F21")),
    "markdown names.xlsx": lambda: _xlsx(_sheet(_deal_rows(20, "![x](http://evil.example/a.png)"),
                                                "A1:F21")),
    "header only.xlsx": lambda: _xlsx(_sheet(_deal_rows(0), "A1:F1")),
    "empty sheet.xlsx": lambda: _xlsx(_sheet([], None)),
    "lying dimension far cell.xlsx": lambda: _xlsx(_sheet(
        _deal_rows(5), "A1:F6", b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x'
                                b'</t></is></c></row>')),
    "dimension bomb.xlsx": lambda: _xlsx(_sheet(_deal_rows(5), "A1:XFD1048576")),
    "shared strings bomb.xlsx": lambda: _with_entry(
        _xlsx(_sheet(_deal_rows(5), "A1:F6"), b"<sst/>"),
        _bomb_entry("xl/sharedStrings.xml", b'<?xml version="1.0"?><sst xmlns="http://schemas.'
                    b'openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
                    b"<si><t>", b"A", b"</t></si></sst>", BOMB_EXPANDED)),
    "sheet xml bomb.xlsx": lambda: _with_entry(
        _xlsx(_sheet(_deal_rows(5), "A1:F6")),
        _bomb_entry("xl/worksheets/sheet1.xml", b'<?xml version="1.0"?><worksheet xmlns="http://'
                    b'schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>',
                    b"<!-- padding -->", b"</sheetData></worksheet>", BOMB_EXPANDED)),
    "truncated.xlsx": lambda: _xlsx(_sheet(_deal_rows(40), "A1:F41"))[:700],
    "zip but not excel.xlsx": lambda: _zip_of({"hello.txt": b"hi"}),
    "lying zip sizes.xlsx": lambda: _lying_sizes(_xlsx(_sheet(_deal_rows(40), "A1:F41"))),
}
for _name, _build in XLSX.items():
    RECIPES[_name] = _build


def _zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _lying_sizes(data: bytes) -> bytes:
    """Return the zip with every entry claiming to be 10 bytes once unpacked."""
    out = bytearray(data)
    at = out.find(b"PK\x01\x02")
    while at != -1:
        struct.pack_into("<I", out, at + 24, 10)
        at = out.find(b"PK\x01\x02", at + 4)
    at = out.find(b"PK\x03\x04")
    while at != -1:
        struct.pack_into("<I", out, at + 22, 10)
        at = out.find(b"PK\x03\x04", at + 4)
    return bytes(out)


# ---------------------------------------------------------------- Parquet


def _parquet(table: pa.Table, **options: object) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer, **options)  # type: ignore[arg-type]
    return buffer.getvalue()


def _deal_table(n: int = 30) -> dict[str, pa.Array]:
    rows = [d.split(",") for d in _deals(n)]
    return {h: pa.array([r[k] for r in rows]) for k, h in enumerate(HEADER.split(","))}


PARQUET: dict[str, Callable[[], bytes]] = {
    "plain.parquet": lambda: _parquet(pa.table(_deal_table())),
    "struct column.parquet": lambda: _parquet(pa.table(
        {**_deal_table(), "Meta": pa.array([{"a": i} for i in range(30)])})),
    "list column.parquet": lambda: _parquet(pa.table(
        {**_deal_table(), "Tags": pa.array([[i, i + 1] for i in range(30)])})),
    "map column.parquet": lambda: _parquet(pa.table(
        {**_deal_table(), "Attrs": pa.array([[("k", i)] for i in range(30)],
                                            type=pa.map_(pa.string(), pa.int64()))})),
    "binary not utf8.parquet": lambda: _parquet(pa.table(
        {**_deal_table(), "Blob": pa.array([bytes([0xff, 0xfe, i]) for i in range(30)])})),
    "binary utf8 owner.parquet": lambda: _parquet(pa.table(
        {**_deal_table(), "Opportunity Owner": pa.array([f"Łódź {i}".encode()
                                                         for i in range(30)])})),
    "only nested columns.parquet": lambda: _parquet(pa.table(
        {"a": pa.array([{"x": 1}] * 5), "b": pa.array([[1]] * 5)})),
    "dictionary bomb.parquet": lambda: _parquet(pa.table({
        **{k: v.take(pa.array([0] * 2048)) for k, v in _deal_table(1).items()},
        "Notes": pa.DictionaryArray.from_arrays(pa.array([0] * 2048, pa.int32()),
                                                pa.array(["z" * (BOMB_EXPANDED // 2048)]))}),
        compression="zstd"),
    "row count bomb.parquet": lambda: _parquet(pa.table(
        {"Stage": pa.nulls(30_000_000), "Amount": pa.nulls(30_000_000)}), row_group_size=1 << 24),
    "truncated.parquet": lambda: _parquet(pa.table(_deal_table()))[:-40],
    "nan amounts and tz timestamps.parquet": lambda: _parquet(pa.table({
        **{k: v for k, v in _deal_table().items() if k != "Amount"},
        "Amount": pa.array([float("nan"), float("inf"), -1.5] * 10),
        "Close Date": pa.array([0, 86_400_000_000, -62_135_596_800_000_000] * 10,
                               pa.timestamp("us", tz="Europe/Warsaw"))})),
    "duplicate column names.parquet": lambda: _parquet(pa.Table.from_arrays(
        [pa.array(["1", "2"]), pa.array(["Demo", "Won"]), pa.array(["Demo", "Lost"])],
        names=["Opportunity ID", "Stage", "Stage"])),
}
for _name, _build in PARQUET.items():
    RECIPES[_name] = _build

BOMBS = ("dimension bomb.xlsx", "shared strings bomb.xlsx", "sheet xml bomb.xlsx",
         "lying dimension far cell.xlsx", "dictionary bomb.parquet", "row count bomb.parquet")


@functools.cache
def hostile_file(name: str) -> bytes:
    """Return the bytes of one corpus file (built once per test session)."""
    return RECIPES[name]()


def names() -> list[str]:
    """Return every corpus file name."""
    return list(RECIPES)
