"""A minimal reader for R's lazy-load data bases (data/Rdata.rdx + Rdata.rdb of an installed R
package), Python 3 standard library only. Enough for data sets that are character, integer, real or
logical vectors, lists and data frames; not a general R unserializer.

    import rdata; objects = rdata.load_package_data("/usr/lib/R/site-library/janeaustenr/data")

Format: Rdata.rdx is a gzip-compressed serialized list(variables=, references=, compressed=); each
variable maps to (offset, length) in Rdata.rdb, where the object is stored as a 4-byte big-endian
uncompressed length followed by a zlib stream (compressed = TRUE; bzip2/xz streams carry a type
byte first) holding the object in R's XDR serialization format (version 2 or 3).
"""
import bz2
import gzip
import lzma
import os
import struct
import zlib

NILVALUE, EMPTYENV, BASEENV, GLOBALENV, UNBOUNDVALUE, MISSINGARG, BASENAMESPACE = 254, 242, 241, 253, 252, 251, 250
REFSXP, PERSISTSXP, NAMESPACESXP, PACKAGESXP, ALTREP = 255, 247, 249, 248, 238
SYMSXP, LISTSXP, CLOSXP, ENVSXP, LANGSXP, CHARSXP, LGLSXP, INTSXP, REALSXP, CPLXSXP, STRSXP = 1, 2, 3, 4, 6, 9, 10, 13, 14, 15, 16
VECSXP, EXPRSXP, ATTRLISTSXP, ATTRLANGSXP = 19, 20, 239, 240
NA_INT = -2147483648


class RObject:
    """A vector or list with its R attributes (names, class, ...)."""

    def __init__(self, rtype, value, attributes=None):
        self.rtype, self.value, self.attributes = rtype, value, attributes or {}

    def __repr__(self):
        return f"RObject({self.rtype}, {str(self.value)[:60]}, attrs={list(self.attributes)})"


class _Reader:
    def __init__(self, data):
        self.data, self.pos, self.refs = data, 0, []

    def int(self):
        (v,) = struct.unpack_from(">i", self.data, self.pos)
        self.pos += 4
        return v

    def length(self):
        n = self.int()
        if n == -1:
            hi, lo = self.int(), self.int()
            n = (hi << 32) + lo
        return n

    def header(self):
        if self.data[:2] != b"X\n":
            raise ValueError("not an XDR R serialization")
        self.pos = 2
        version = self.int()
        self.int(), self.int()  # writer version, minimal reader version
        if version == 3:
            n = self.int()
            self.pos += n  # native encoding
        elif version != 2:
            raise ValueError(f"serialization version {version}")

    def pairlist_items(self, flags):
        """Reads a pairlist whose first cell's flags were read; returns [(tag, value)]."""
        items = []
        while True:
            rtype = flags & 0xFF
            if rtype == NILVALUE:
                return items
            if rtype not in (LISTSXP, LANGSXP, ATTRLISTSXP, ATTRLANGSXP):
                items.append((None, self.item(flags)))  # a dotted tail; not expected
                return items
            if flags & (1 << 9):
                self.item()  # attributes of the cell
            tag = self.item() if flags & (1 << 10) else None
            items.append((tag, self.item()))
            flags = self.int()

    def attributes(self):
        flags = self.int()
        return {str(tag): value for tag, value in self.pairlist_items(flags)}

    def item(self, flags=None):
        if flags is None:
            flags = self.int()
        rtype, has_attr, levels = flags & 0xFF, bool(flags & (1 << 9)), flags >> 12
        if rtype in (NILVALUE, EMPTYENV, BASEENV, GLOBALENV, UNBOUNDVALUE, MISSINGARG, BASENAMESPACE):
            return None
        if rtype == REFSXP:
            index = flags >> 8 or self.int()
            return self.refs[index - 1]
        if rtype in (PERSISTSXP, NAMESPACESXP, PACKAGESXP):
            self.int()  # 0
            names = [self.item() for _ in range(self.int())]
            self.refs.append(names)
            return names
        if rtype == SYMSXP:
            name = self.item()
            self.refs.append(name)
            return name
        if rtype == CHARSXP:
            n = self.int()
            if n == -1:
                return None
            raw = self.data[self.pos:self.pos + n]
            self.pos += n
            encoding = "latin-1" if levels & (1 << 2) and not levels & (1 << 3) else "utf-8"
            return raw.decode(encoding, errors="replace")
        if rtype in (LISTSXP, LANGSXP, ATTRLISTSXP, ATTRLANGSXP):
            return RObject("pairlist", self.pairlist_items(flags))
        if rtype == ENVSXP:
            env = RObject("environment", None)
            self.refs.append(env)
            self.int()  # locked
            enclos, frame, hashtab, attrib = self.item(), self.item(), self.item(), self.item()
            env.value = (frame, hashtab)
            return env
        if rtype == ALTREP:
            info, state, attr = self.item(), self.item(), self.item()
            return RObject("altrep", state)
        if rtype in (LGLSXP, INTSXP):
            n = self.length()
            values = list(struct.unpack_from(f">{n}i", self.data, self.pos))
            self.pos += 4 * n
            value = RObject("integer" if rtype == INTSXP else "logical", [None if v == NA_INT else v for v in values])
        elif rtype == REALSXP:
            n = self.length()
            value = RObject("double", list(struct.unpack_from(f">{n}d", self.data, self.pos)))
            self.pos += 8 * n
        elif rtype == CPLXSXP:
            n = self.length()
            value = RObject("complex", list(struct.unpack_from(f">{2 * n}d", self.data, self.pos)))
            self.pos += 16 * n
        elif rtype == STRSXP:
            n = self.length()
            value = RObject("character", [self.item() for _ in range(n)])
        elif rtype in (VECSXP, EXPRSXP):
            n = self.length()
            value = RObject("list", [self.item() for _ in range(n)])
        else:
            raise ValueError(f"unsupported SEXP type {rtype} at byte {self.pos}")
        if has_attr:
            value.attributes = self.attributes()
        return value


def unserialize(data):
    reader = _Reader(data)
    reader.header()
    return reader.item()


def _decompress(blob):
    (size,) = struct.unpack_from(">I", blob, 0)
    body = blob[4:]
    kind = body[:1]
    if kind == b"Z":
        return zlib.decompress(body[1:])
    if kind == b"2":
        return bz2.decompress(body[1:])
    if kind == b"X":
        return lzma.decompress(body[1:])
    if kind == b"0":
        return body[1:]
    out = zlib.decompress(body)
    if len(out) != size:
        raise ValueError("bad length")
    return out


def load_package_data(data_dir):
    """{name: RObject} for every data set in data_dir/Rdata.rdx + Rdata.rdb."""
    with open(os.path.join(data_dir, "Rdata.rdx"), "rb") as f:
        index = unserialize(gzip.decompress(f.read()))
    fields = dict(zip(index.attributes["names"].value, index.value))
    variables = fields["variables"]
    names = variables.attributes["names"].value
    out = {}
    with open(os.path.join(data_dir, "Rdata.rdb"), "rb") as f:
        db = f.read()
    for name, pos in zip(names, variables.value):
        offset, length = (int(v) for v in pos.value)
        out[name] = unserialize(_decompress(db[offset:offset + length]))
    return out
