"""What a file really holds, from its first bytes: so a loader can say "this is a WAV audio file, not an
image" when an extension lies, instead of passing on a decoder's complaint."""
from __future__ import annotations

from pathlib import Path

# (leading bytes, offset, what it is, the modality that reads it)
_SIGNATURES: list[tuple[bytes, int, str, str]] = [
    (b"\x89PNG\r\n\x1a\n", 0, "PNG image", "image"),
    (b"\xff\xd8\xff", 0, "JPEG image", "image"),
    (b"GIF87a", 0, "GIF image", "image"),
    (b"GIF89a", 0, "GIF image", "image"),
    (b"BM", 0, "BMP image", "image"),
    (b"II*\x00", 0, "TIFF image", "image"),
    (b"MM\x00*", 0, "TIFF image", "image"),
    (b"WEBP", 8, "WebP image", "image"),
    (b"WAVE", 8, "WAV audio file", "audio"),
    (b"fLaC", 0, "FLAC audio file", "audio"),
    (b"OggS", 0, "Ogg audio file", "audio"),
    (b"FORM", 0, "AIFF audio file", "audio"),
    (b"ID3", 0, "MP3 audio file", "audio"),
    (b"glTF", 0, "GLB 3D model", "shape"),
    (b"ply", 0, "PLY 3D model", "shape"),
    (b"OFF", 0, "OFF 3D model", "shape"),
    (b"%PDF", 0, "PDF document", ""),
    (b"PK\x03\x04", 0, "ZIP archive (or an Office document)", ""),
    (b"ftypheic", 4, "HEIC photo", ""),
    (b"ftypheix", 4, "HEIC photo", ""),
    (b"ftypmif1", 4, "HEIC photo", ""),
    (b"ftypavif", 4, "AVIF photo", ""),
    (b"ftyp", 4, "MP4/MOV video", ""),
]


def sniff(path: str | Path) -> tuple[str, str] | None:
    """(what the file is, e.g. "WAV audio file"; the modality that reads it, "" for none) from its
    leading bytes, or None when they match no known signature."""
    with open(path, "rb") as fh:
        head = fh.read(16)
    for magic, offset, what, modality in _SIGNATURES:
        if head[offset:offset + len(magic)] == magic:
            return what, modality
    return None


def mismatch(path: str | Path, modality: str) -> str | None:
    """A sentence for a file whose content is of another kind than `modality` expects, else None."""
    found = sniff(path)
    if found is None or found[1] == modality:
        return None
    what, other = found
    if what.endswith("photo"):
        return f"the file is a {what}, a format this program cannot read: save it as JPEG or PNG first"
    where = f"; open it as {other}" if other else ""
    return f"the file is a {what}, not {_ARTICLE[modality]} (its name ends in {Path(path).suffix or 'nothing'}){where}"


_ARTICLE = {"image": "an image", "audio": "audio", "shape": "a 3D mesh"}
