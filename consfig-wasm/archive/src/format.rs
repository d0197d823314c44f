//! Decoding archives into their entries, in memory: `.tar`, `.tar.gz`
//! (`.tgz`), `.tar.xz` (`.txz`) and `.zip`, with decoders written in Rust
//! and built into the module. Names are returned as the archive has them:
//! [`crate::confine`] decides whether they may be written.

use std::io::{self, Cursor, Read};

/// An archive's entry, its name as the archive spells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawEntry {
    pub name: String,
    pub kind: RawKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawKind {
    /// A regular file and its permission bits as the archive has them.
    File {
        data: Vec<u8>,
        mode: u32,
    },
    Directory {
        mode: u32,
    },
    Symlink {
        target: String,
    },
    /// Another entry of the archive, by its name there.
    Hardlink {
        target: String,
    },
}

/// The formats read, each named as its file names end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Tar,
    TarGz,
    TarXz,
    Zip,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::Tar => ".tar",
            Format::TarGz => ".tar.gz",
            Format::TarXz => ".tar.xz",
            Format::Zip => ".zip",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error(
        "not a .tar, .tar.gz (.tgz), .tar.xz (.txz) or .zip archive \
         (judged by its first bytes and its name)"
    )]
    UnknownFormat,
    #[error("cannot read it as a {} archive: {source}", format.name())]
    Corrupt { format: Format, source: io::Error },
    #[error("the entry {name:?} has a name that is not UTF-8 text")]
    NotUtf8 { name: String },
    #[error("the entry {name:?} is a {kind}: only files, directories and links are extracted")]
    Unsupported { name: String, kind: &'static str },
}

/// The format of `bytes`, named `name`: by their first bytes, which do not
/// lie, and by the name for a tar archive of the old format without a
/// `ustar` signature.
pub fn detect(name: &str, bytes: &[u8]) -> Result<Format, DecodeError> {
    const GZIP: &[u8] = &[0x1f, 0x8b];
    const XZ: &[u8] = &[0xfd, b'7', b'z', b'X', b'Z', 0];
    if bytes.starts_with(GZIP) {
        Ok(Format::TarGz)
    } else if bytes.starts_with(XZ) {
        Ok(Format::TarXz)
    } else if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        Ok(Format::Zip)
    } else if bytes.get(257..262) == Some(b"ustar") || name.ends_with(".tar") {
        Ok(Format::Tar)
    } else {
        Err(DecodeError::UnknownFormat)
    }
}

/// Every entry of the archive `bytes` (named `name`), in the archive's order.
pub fn decode(name: &str, bytes: &[u8]) -> Result<Vec<RawEntry>, DecodeError> {
    let format = detect(name, bytes)?;
    let corrupt = |source| DecodeError::Corrupt { format, source };
    match format {
        Format::Tar => read_tar(bytes).map_err(corrupt)?,
        Format::TarGz => {
            let mut tar = Vec::new();
            flate2::read::MultiGzDecoder::new(bytes)
                .read_to_end(&mut tar)
                .map_err(corrupt)?;
            read_tar(&tar).map_err(corrupt)?
        }
        Format::TarXz => {
            let mut tar = Vec::new();
            lzma_rs::xz_decompress(&mut Cursor::new(bytes), &mut tar)
                .map_err(|e| corrupt(io::Error::other(e.to_string())))?;
            read_tar(&tar).map_err(corrupt)?
        }
        Format::Zip => read_zip(bytes).map_err(|e| corrupt(io::Error::other(e)))?,
    }
}

/// The entries, or the first that cannot be extracted.
type Entries = Result<Vec<RawEntry>, DecodeError>;

fn text(bytes: &[u8]) -> Result<String, DecodeError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| DecodeError::NotUtf8 {
        name: String::from_utf8_lossy(bytes).into_owned(),
    })
}

fn read_tar(bytes: &[u8]) -> io::Result<Entries> {
    use tar::EntryType;
    let mut entries = Vec::new();
    for entry in tar::Archive::new(bytes).entries()? {
        let mut entry = entry?;
        let name = match text(&entry.path_bytes()) {
            Ok(name) => name,
            Err(e) => return Ok(Err(e)),
        };
        let entry_type = entry.header().entry_type();
        let mode = entry.header().mode()?;
        let link = match entry.link_name_bytes().map(|bytes| text(&bytes)) {
            Some(Err(e)) => return Ok(Err(e)),
            Some(Ok(link)) => link,
            None => String::new(),
        };
        let kind = match entry_type {
            EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                let mut data = Vec::new();
                entry.read_to_end(&mut data)?;
                RawKind::File { data, mode }
            }
            EntryType::Directory => RawKind::Directory { mode },
            EntryType::Symlink => RawKind::Symlink { target: link },
            EntryType::Link => RawKind::Hardlink { target: link },
            // Metadata of other entries (the tar crate applies the local
            // ones, long names among them): nothing to extract.
            EntryType::XGlobalHeader | EntryType::XHeader => continue,
            EntryType::GNULongName | EntryType::GNULongLink => continue,
            other => {
                let kind = match other {
                    EntryType::Char => "character device",
                    EntryType::Block => "block device",
                    EntryType::Fifo => "FIFO",
                    _ => "tar entry of an unknown type",
                };
                return Ok(Err(DecodeError::Unsupported { name, kind }));
            }
        };
        entries.push(RawEntry { name, kind });
    }
    Ok(Ok(entries))
}

/// The file type bits of a Unix mode, and a symlink's.
const FILE_TYPE: u32 = 0o170_000;
const SYMLINK: u32 = 0o120_000;

fn read_zip(bytes: &[u8]) -> zip::result::ZipResult<Entries> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))?;
    let mut entries = Vec::new();
    for index in 0..archive.len() {
        let mut file = archive.by_index(index)?;
        let name = match text(file.name_raw()) {
            Ok(name) => name,
            Err(e) => return Ok(Err(e)),
        };
        let mode = file.unix_mode();
        let kind = if file.is_dir() {
            RawKind::Directory {
                mode: mode.unwrap_or(0o755),
            }
        } else {
            let mut data = Vec::new();
            file.read_to_end(&mut data)?;
            match mode {
                // A symlink's target is its content.
                Some(mode) if mode & FILE_TYPE == SYMLINK => match text(&data) {
                    Ok(target) => RawKind::Symlink { target },
                    Err(e) => return Ok(Err(e)),
                },
                _ => RawKind::File {
                    data,
                    mode: mode.unwrap_or(0o644),
                },
            }
        };
        entries.push(RawEntry { name, kind });
    }
    Ok(Ok(entries))
}

/// Archives of every format, built with the same crates, for the tests of
/// this crate.
#[cfg(test)]
pub mod build {
    use std::io::Write;

    use super::*;

    /// An entry to put in a test archive.
    pub enum Item<'a> {
        File(&'a str, &'a [u8], u32),
        Dir(&'a str, u32),
        Symlink(&'a str, &'a str),
        Hardlink(&'a str, &'a str),
    }

    pub fn tar(items: &[Item]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for item in items {
            let mut header = tar::Header::new_gnu();
            let (name, data): (&str, &[u8]) = match *item {
                Item::File(name, data, mode) => {
                    header.set_entry_type(tar::EntryType::Regular);
                    header.set_mode(mode);
                    (name, data)
                }
                Item::Dir(name, mode) => {
                    header.set_entry_type(tar::EntryType::Directory);
                    header.set_mode(mode);
                    (name, b"")
                }
                Item::Symlink(name, target) | Item::Hardlink(name, target) => {
                    let kind = match item {
                        Item::Symlink(..) => tar::EntryType::Symlink,
                        _ => tar::EntryType::Link,
                    };
                    header.set_entry_type(kind);
                    header.set_mode(0o777);
                    // Raw, so that the test can write what `set_link_name` refuses.
                    header.as_old_mut().linkname[..target.len()].copy_from_slice(target.as_bytes());
                    (name, b"")
                }
            };
            header.set_size(data.len() as u64);
            // Raw too: `append_data` refuses `..` and absolute names.
            header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
            header.set_cksum();
            builder.append(&header, data).unwrap();
        }
        builder.into_inner().unwrap()
    }

    pub fn tar_gz(items: &[Item]) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&tar(items)).unwrap();
        gz.finish().unwrap()
    }

    pub fn tar_xz(items: &[Item]) -> Vec<u8> {
        let mut xz = Vec::new();
        lzma_rs::xz_compress(&mut Cursor::new(tar(items)), &mut xz).unwrap();
        xz
    }

    pub fn zip(items: &[Item]) -> Vec<u8> {
        use zip::write::SimpleFileOptions;
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for item in items {
            match *item {
                Item::File(name, data, mode) => {
                    zip.start_file(name, options.unix_permissions(mode))
                        .unwrap();
                    zip.write_all(data).unwrap();
                }
                Item::Dir(name, mode) => zip
                    .add_directory(name, options.unix_permissions(mode))
                    .unwrap(),
                Item::Symlink(name, target) => zip.add_symlink(name, target, options).unwrap(),
                Item::Hardlink(..) => panic!("zip has no hard links"),
            }
        }
        zip.finish().unwrap().into_inner()
    }
}

#[cfg(test)]
mod tests {
    use super::build::{self, Item};
    use super::*;

    fn items() -> Vec<Item<'static>> {
        vec![
            Item::Dir("app/", 0o750),
            Item::File("app/run.sh", b"#!/bin/sh\n", 0o755),
            Item::Symlink("app/current", "run.sh"),
        ]
    }

    fn expected() -> Vec<RawEntry> {
        vec![
            RawEntry {
                name: "app/".into(),
                kind: RawKind::Directory { mode: 0o750 },
            },
            RawEntry {
                name: "app/run.sh".into(),
                kind: RawKind::File {
                    data: b"#!/bin/sh\n".to_vec(),
                    mode: 0o755,
                },
            },
            RawEntry {
                name: "app/current".into(),
                kind: RawKind::Symlink {
                    target: "run.sh".into(),
                },
            },
        ]
    }

    /// Zip keeps the file type bits with the mode, and names directories with a
    /// trailing `/`: compared by what matters.
    fn same(decoded: Vec<RawEntry>) -> Vec<RawEntry> {
        decoded
            .into_iter()
            .map(|mut entry| {
                match &mut entry.kind {
                    RawKind::File { mode, .. } | RawKind::Directory { mode } => *mode &= 0o7777,
                    _ => {}
                }
                entry
            })
            .collect()
    }

    #[test]
    fn every_format_decodes_to_the_same_entries() {
        for (name, bytes) in [
            ("a.tar", build::tar(&items())),
            ("a.tar.gz", build::tar_gz(&items())),
            ("a.tgz", build::tar_gz(&items())),
            ("a.tar.xz", build::tar_xz(&items())),
            ("a.zip", build::zip(&items())),
            // Chosen by content, whatever the name says.
            ("download", build::tar_xz(&items())),
        ] {
            let decoded = decode(name, &bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(same(decoded), expected(), "{name}");
        }
    }

    #[test]
    fn hard_links_are_read_as_links_to_entries() {
        let tar = build::tar(&[Item::File("a", b"x", 0o644), Item::Hardlink("b", "a")]);
        let decoded = decode("l.tar", &tar).unwrap();
        assert_eq!(decoded[1].kind, RawKind::Hardlink { target: "a".into() });
    }

    #[test]
    fn what_is_not_an_archive_says_so() {
        assert_eq!(
            decode("notes.txt", b"hello").unwrap_err().to_string(),
            "not a .tar, .tar.gz (.tgz), .tar.xz (.txz) or .zip archive \
             (judged by its first bytes and its name)"
        );
        let mut gz = build::tar_gz(&items());
        gz.truncate(gz.len() / 2);
        let err = decode("a.tar.gz", &gz).unwrap_err();
        assert!(
            matches!(
                err,
                DecodeError::Corrupt {
                    format: Format::TarGz,
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            err.to_string()
                .starts_with("cannot read it as a .tar.gz archive: "),
            "{err}"
        );
    }
}
