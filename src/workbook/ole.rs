//! # OLE compound files
//!
//! Just enough of [MS-CFB] to tell what an OLE file holds — a real .xls (`Workbook` stream),
//! an encrypted OOXML package (`EncryptedPackage`), something else — and to read the first
//! bytes of a stream. calamine keeps its own reader private, and its answer ("Cannot detect
//! file format") tells the sender nothing. Every size and chain here is bounded by the file's
//! own length, so a hostile header costs at most a pass over the file.
//!
//! [MS-CFB]: https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-cfb/

/// The eight bytes every OLE compound file begins with.
pub(crate) const MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Sector numbers at or above this are markers (end of chain, free, FAT, DIFAT), not sectors.
const MAXREGSECT: u32 = 0xFFFF_FFFA;
const NOSTREAM: u32 = 0xFFFF_FFFF;
const HEADER_DIFAT: usize = 109;
/// Directory entries read at most; real files have a handful.
const MAX_ENTRIES: usize = 65_536;

const KIND_STORAGE: u8 = 1;
const KIND_STREAM: u8 = 2;
const KIND_ROOT: u8 = 5;

/// One directory entry.
#[derive(Debug, Clone)]
struct Entry {
    name: String,
    kind: u8,
    left: u32,
    right: u32,
    child: u32,
    start: u32,
    size: u64,
}

/// A parsed OLE compound file: its FAT and directory.
#[derive(Debug)]
pub(crate) struct Cfb<'a> {
    bytes: &'a [u8],
    shift: u32,
    mini_cutoff: u64,
    first_minifat: u32,
    first_dir: u32,
    fat: Vec<u32>,
    entries: Vec<Entry>,
}

/// The little-endian u16 at `at`, if the bytes reach that far (also for BIFF records).
pub(crate) fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

/// The little-endian u32 at `at`, if the bytes reach that far (also for BIFF records).
pub(crate) fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

impl<'a> Cfb<'a> {
    /// Parses the header, FAT and directory; `None` if this is not a sound OLE file.
    pub(crate) fn parse(bytes: &'a [u8]) -> Option<Self> {
        if bytes.len() < 512 || bytes[..8] != MAGIC {
            return None;
        }
        let shift = u32::from(u16_at(bytes, 0x1E)?);
        if shift != 9 && shift != 12 {
            return None;
        }
        let sector_size = 1usize << shift;
        // Sector n starts at (n + 1) * sector_size: the header fills sector "-1".
        let sectors = (bytes.len() / sector_size).saturating_sub(1);
        let fat_count = u32_at(bytes, 0x2C)? as usize;
        let first_dir = u32_at(bytes, 0x30)?;
        let mini_cutoff = u64::from(u32_at(bytes, 0x38)?);
        let first_minifat = u32_at(bytes, 0x3C)?;
        let mut difat_next = u32_at(bytes, 0x44)?;

        let mut cfb = Cfb {
            bytes,
            shift,
            mini_cutoff,
            first_minifat,
            first_dir,
            fat: Vec::new(),
            entries: Vec::new(),
        };

        // The FAT's own sectors: 109 listed in the header, the rest in the DIFAT chain.
        let wanted = fat_count.min(sectors);
        let mut fat_sectors: Vec<u32> = (0..HEADER_DIFAT)
            .filter_map(|i| u32_at(bytes, 0x4C + 4 * i))
            .filter(|&s| s < MAXREGSECT)
            .take(wanted)
            .collect();
        let mut hops = 0;
        while fat_sectors.len() < wanted && difat_next < MAXREGSECT && hops < sectors {
            hops += 1;
            let sector = cfb.sector(difat_next)?;
            let per = sector_size / 4 - 1;
            fat_sectors.extend(
                (0..per)
                    .filter_map(|i| u32_at(sector, 4 * i))
                    .filter(|&s| s < MAXREGSECT)
                    .take(wanted - fat_sectors.len()),
            );
            difat_next = u32_at(sector, 4 * per)?;
        }
        // Entries past the file's last sector can only point nowhere: do not keep them.
        let mut fat = Vec::with_capacity(sectors.min(fat_sectors.len() * sector_size / 4));
        'fat: for s in fat_sectors {
            let sector = cfb.sector(s)?;
            for chunk in sector.chunks_exact(4) {
                if fat.len() >= sectors {
                    break 'fat;
                }
                fat.push(u32::from_le_bytes(chunk.try_into().ok()?));
            }
        }
        cfb.fat = fat;

        let dir_chain = cfb.chain(first_dir);
        if dir_chain.is_empty() {
            return None;
        }
        let mut entries = Vec::new();
        'dir: for s in dir_chain {
            let sector = cfb.sector(s)?;
            for raw in sector.chunks_exact(128) {
                if entries.len() >= MAX_ENTRIES {
                    break 'dir;
                }
                entries.push(parse_entry(raw, shift)?);
            }
        }
        if entries.first().is_none_or(|root| root.kind != KIND_ROOT) {
            return None;
        }
        cfb.entries = entries;
        Some(cfb)
    }

    fn sector_size(&self) -> usize {
        1 << self.shift
    }

    fn sector(&self, id: u32) -> Option<&'a [u8]> {
        let start = (id as usize)
            .checked_add(1)?
            .checked_mul(self.sector_size())?;
        self.bytes
            .get(start..start.checked_add(self.sector_size())?)
    }

    /// Follows a FAT chain; stops at its end, at a bad link or after as many hops as the
    /// file has sectors (a loop).
    fn chain(&self, start: u32) -> Vec<u32> {
        follow(&self.fat, start)
    }

    /// Names of the streams and storages directly under the root, as (name, is_stream).
    pub(crate) fn root_children(&self) -> Vec<(&str, bool)> {
        let mut out = Vec::new();
        let mut seen = vec![false; self.entries.len()];
        let mut stack = vec![self.entries[0].child];
        while let Some(id) = stack.pop() {
            if id == NOSTREAM {
                continue;
            }
            let Some(entry) = self.entries.get(id as usize) else {
                continue;
            };
            if std::mem::replace(&mut seen[id as usize], true) {
                continue;
            }
            if entry.kind == KIND_STREAM || entry.kind == KIND_STORAGE {
                out.push((entry.name.as_str(), entry.kind == KIND_STREAM));
            }
            stack.push(entry.left);
            stack.push(entry.right);
        }
        out
    }

    /// Whether a stream of this name (any case, as CFB compares names) sits under the root.
    pub(crate) fn has_stream(&self, name: &str) -> bool {
        self.root_children()
            .iter()
            .any(|(n, is_stream)| *is_stream && n.eq_ignore_ascii_case(name))
    }

    /// The first `max` bytes (or fewer) of a root-level stream.
    pub(crate) fn stream_prefix(&self, name: &str, max: usize) -> Option<Vec<u8>> {
        let id = {
            let mut seen = vec![false; self.entries.len()];
            let mut stack = vec![self.entries[0].child];
            let mut found = None;
            while let Some(id) = stack.pop() {
                let Some(entry) = self.entries.get(id as usize) else {
                    continue;
                };
                if std::mem::replace(&mut seen[id as usize], true) {
                    continue;
                }
                if entry.kind == KIND_STREAM && entry.name.eq_ignore_ascii_case(name) {
                    found = Some(id as usize);
                    break;
                }
                stack.push(entry.left);
                stack.push(entry.right);
            }
            found?
        };
        let entry = &self.entries[id];
        let want = usize::try_from(entry.size).unwrap_or(usize::MAX).min(max);
        // The size is what the directory claims; the stream cannot hold more than the file.
        let mut out = Vec::with_capacity(want.min(self.bytes.len()));
        if entry.size < self.mini_cutoff {
            // Small streams live in the mini stream: 64-byte sectors inside the root's chain.
            let root = &self.entries[0];
            let root_chain = self.chain(root.start);
            let minifat: Vec<u32> = self
                .chain(self.first_minifat)
                .into_iter()
                .filter_map(|s| self.sector(s))
                .flat_map(|s| s.chunks_exact(4))
                .map(|c| u32::from_le_bytes(c.try_into().unwrap_or([0xFF; 4])))
                .take(root_chain.len() * (self.sector_size() / 64))
                .collect();
            for mini in follow(&minifat, entry.start) {
                let offset = mini as usize * 64;
                let sector = self.sector(*root_chain.get(offset >> self.shift)?)?;
                let within = offset & (self.sector_size() - 1);
                out.extend_from_slice(sector.get(within..within + 64)?);
                if out.len() >= want {
                    break;
                }
            }
        } else {
            for s in self.chain(entry.start) {
                out.extend_from_slice(self.sector(s)?);
                if out.len() >= want {
                    break;
                }
            }
        }
        out.truncate(want);
        Some(out)
    }
}

impl Cfb<'_> {
    /// What is broken in the file's chains, if anything: a sector chain that comes back to a
    /// sector it has passed (a loop), in the directory, the mini FAT, the mini stream or a
    /// workbook stream. Readers that follow such a chain trust it to end and read until
    /// memory runs out; found here, the file is simply damaged.
    pub(crate) fn damage(&self) -> Option<&'static str> {
        let root = self.entries.first()?;
        if loops(&self.fat, self.first_dir) {
            return Some("its directory's sector chain loops back on itself");
        }
        if loops(&self.fat, self.first_minifat) {
            return Some("its mini FAT's sector chain loops back on itself");
        }
        if loops(&self.fat, root.start) {
            return Some("its mini stream's sector chain loops back on itself");
        }
        // The streams a workbook reader follows (checking every entry could cost the
        // square of a hostile file's size).
        let workbook = self.entries.iter().filter(|e| {
            e.kind == KIND_STREAM
                && e.size >= self.mini_cutoff
                && (e.name.eq_ignore_ascii_case("Workbook") || e.name.eq_ignore_ascii_case("Book"))
        });
        for entry in workbook.take(4) {
            if loops(&self.fat, entry.start) {
                return Some("a stream's sector chain loops back on itself");
            }
        }
        None
    }
}

/// Whether the chain from `start` comes back to a sector it has passed. A chain that ends,
/// or runs off the table, does not loop.
fn loops(table: &[u32], start: u32) -> bool {
    let mut seen = vec![false; table.len()];
    let mut at = start;
    while let Some(&next) = table.get(at as usize) {
        if std::mem::replace(&mut seen[at as usize], true) {
            return true;
        }
        at = next;
    }
    false
}

fn follow(table: &[u32], start: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let mut at = start;
    while (at as usize) < table.len() && out.len() < table.len() {
        out.push(at);
        at = table[at as usize];
    }
    out
}

fn parse_entry(raw: &[u8], shift: u32) -> Option<Entry> {
    let name_len = usize::from(u16_at(raw, 0x40)?).min(64);
    let units: Vec<u16> = raw[..name_len]
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .take_while(|&u| u != 0)
        .collect();
    let mut size = u64_at(raw, 0x78)?;
    if shift == 9 {
        // Version 3 files may leave garbage in the high half of the size.
        size &= 0xFFFF_FFFF;
    }
    Some(Entry {
        name: String::from_utf16_lossy(&units),
        kind: raw[0x42],
        left: u32_at(raw, 0x44)?,
        right: u32_at(raw, 0x48)?,
        child: u32_at(raw, 0x4C)?,
        start: u32_at(raw, 0x74)?,
        size,
    })
}

/// Builds small version-3 OLE files for tests: each stream gets whole 512-byte sectors,
/// and streams under 4096 bytes go to the mini stream as the format wants.
#[cfg(test)]
pub(crate) mod testfile {
    const SECTOR: usize = 512;
    const END: u32 = 0xFFFF_FFFE;
    const FREE: u32 = 0xFFFF_FFFF;
    const FATSECT: u32 = 0xFFFF_FFFD;

    /// An OLE file with these root-level streams.
    pub(crate) fn build(streams: &[(&str, &[u8])]) -> Vec<u8> {
        // Layout: [FAT][directory...][minifat][ministream sectors...][big stream sectors...]
        let mut big: Vec<(usize, Vec<u8>)> = Vec::new(); // (entry index, data)
        let mut mini_data: Vec<u8> = Vec::new();
        let mut mini_fat: Vec<u32> = Vec::new();
        let mut starts = vec![0u32; streams.len()];
        for (i, (_, data)) in streams.iter().enumerate() {
            if data.len() < 4096 {
                let first = (mini_data.len() / 64) as u32;
                let n = data.len().div_ceil(64).max(1);
                for k in 0..n {
                    mini_fat.push(if k + 1 == n {
                        END
                    } else {
                        first + k as u32 + 1
                    });
                }
                let mut d = data.to_vec();
                d.resize(n * 64, 0);
                mini_data.extend(d);
                starts[i] = first;
            } else {
                big.push((i, data.to_vec()));
            }
        }
        let entries = streams.len() + 1;
        let dir_sectors = (entries * 128).div_ceil(SECTOR);
        let minifat_sectors = (mini_fat.len() * 4).div_ceil(SECTOR);
        let ministream_sectors = mini_data.len().div_ceil(SECTOR);
        let mut fat: Vec<u32> = vec![FATSECT];
        let mut next = 1u32;
        let mut run = |fat: &mut Vec<u32>, n: usize| -> u32 {
            let first = next;
            for k in 0..n {
                fat.push(if k + 1 == n { END } else { next + k as u32 + 1 });
            }
            next += n as u32;
            if n == 0 { END } else { first }
        };
        let dir_start = run(&mut fat, dir_sectors);
        let minifat_start = run(&mut fat, minifat_sectors);
        let ministream_start = run(&mut fat, ministream_sectors);
        let mut big_sectors = Vec::new();
        for (i, data) in &big {
            let n = data.len().div_ceil(SECTOR);
            starts[*i] = run(&mut fat, n);
            big_sectors.push((data.clone(), n));
        }
        assert!(
            fat.len() <= SECTOR / 4,
            "test OLE file too big for one FAT sector"
        );
        fat.resize(SECTOR / 4, FREE);

        let mut out = vec![0u8; SECTOR];
        out[..8].copy_from_slice(&super::MAGIC);
        out[0x18..0x1A].copy_from_slice(&0x3Eu16.to_le_bytes());
        out[0x1A..0x1C].copy_from_slice(&3u16.to_le_bytes());
        out[0x1C..0x1E].copy_from_slice(&0xFFFEu16.to_le_bytes());
        out[0x1E..0x20].copy_from_slice(&9u16.to_le_bytes());
        out[0x20..0x22].copy_from_slice(&6u16.to_le_bytes());
        out[0x2C..0x30].copy_from_slice(&1u32.to_le_bytes());
        out[0x30..0x34].copy_from_slice(&dir_start.to_le_bytes());
        out[0x38..0x3C].copy_from_slice(&4096u32.to_le_bytes());
        out[0x3C..0x40].copy_from_slice(&minifat_start.to_le_bytes());
        out[0x40..0x44].copy_from_slice(&(minifat_sectors as u32).to_le_bytes());
        out[0x44..0x48].copy_from_slice(&END.to_le_bytes());
        for i in 0..109 {
            let v = if i == 0 { 0 } else { FREE };
            out[0x4C + 4 * i..0x50 + 4 * i].copy_from_slice(&v.to_le_bytes());
        }
        for v in &fat {
            out.extend(v.to_le_bytes());
        }
        // Directory: root, then the streams chained as right siblings (a degenerate but
        // valid tree).
        let mut dir = Vec::new();
        let entry = |name: &str, kind: u8, right: u32, child: u32, start: u32, size: u64| {
            let mut e = vec![0u8; 128];
            let units: Vec<u16> = name.encode_utf16().chain([0]).collect();
            for (k, u) in units.iter().enumerate() {
                e[2 * k..2 * k + 2].copy_from_slice(&u.to_le_bytes());
            }
            e[0x40..0x42].copy_from_slice(&((units.len() * 2) as u16).to_le_bytes());
            e[0x42] = kind;
            e[0x43] = 1;
            e[0x44..0x48].copy_from_slice(&FREE.to_le_bytes());
            e[0x48..0x4C].copy_from_slice(&right.to_le_bytes());
            e[0x4C..0x50].copy_from_slice(&child.to_le_bytes());
            e[0x74..0x78].copy_from_slice(&start.to_le_bytes());
            e[0x78..0x80].copy_from_slice(&size.to_le_bytes());
            e
        };
        let child = if streams.is_empty() { FREE } else { 1 };
        dir.extend(entry(
            "Root Entry",
            5,
            FREE,
            child,
            if mini_data.is_empty() {
                END
            } else {
                ministream_start
            },
            mini_data.len() as u64,
        ));
        for (i, (name, data)) in streams.iter().enumerate() {
            let right = if i + 1 < streams.len() {
                i as u32 + 2
            } else {
                FREE
            };
            dir.extend(entry(name, 2, right, FREE, starts[i], data.len() as u64));
        }
        dir.resize(dir_sectors * SECTOR, 0);
        out.extend(dir);
        let mut mf: Vec<u8> = mini_fat.iter().flat_map(|v| v.to_le_bytes()).collect();
        mf.resize(minifat_sectors * SECTOR, 0xFF);
        out.extend(mf);
        let mut ms = mini_data.clone();
        ms.resize(ministream_sectors * SECTOR, 0);
        out.extend(ms);
        for (mut data, n) in big_sectors {
            data.resize(n * SECTOR, 0);
            out.extend(data);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_names_and_streams_of_a_built_file() {
        let big: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
        let bytes = testfile::build(&[
            ("EncryptionInfo", b"info"),
            ("EncryptedPackage", &big),
            ("\u{6}DataSpaces", b"x"),
        ]);
        let cfb = Cfb::parse(&bytes).expect("parses");
        assert!(cfb.has_stream("encryptedpackage"));
        assert!(cfb.has_stream("EncryptionInfo"));
        assert!(!cfb.has_stream("Workbook"));
        assert_eq!(cfb.stream_prefix("EncryptionInfo", 100).unwrap(), b"info");
        assert_eq!(
            cfb.stream_prefix("EncryptedPackage", 600).unwrap(),
            &big[..600]
        );
    }

    #[test]
    fn a_looping_directory_neither_hangs_nor_panics() {
        // A file whose directory loops back on itself must not hang or panic.
        let mut bytes = testfile::build(&[("Workbook", &[1u8; 5000])]);
        // Point the root's child at itself.
        let dir_at = 512 * 2;
        bytes[dir_at + 0x4C..dir_at + 0x50].copy_from_slice(&0u32.to_le_bytes());
        let cfb = Cfb::parse(&bytes).expect("parses");
        assert!(!cfb.has_stream("Workbook"));
    }

    #[test]
    fn a_looping_sector_chain_is_damage() {
        let sound = testfile::build(&[("Workbook", &[1u8; 5000])]);
        assert_eq!(Cfb::parse(&sound).unwrap().damage(), None);
        // The FAT is sector 0; the directory is sector 1: make its chain point at itself.
        let mut bytes = sound.clone();
        let fat_at = 512;
        bytes[fat_at + 4..fat_at + 8].copy_from_slice(&1u32.to_le_bytes());
        let cfb = Cfb::parse(&bytes).expect("parses");
        assert_eq!(
            cfb.damage(),
            Some("its directory's sector chain loops back on itself")
        );
        // The workbook stream's last sector pointing back at its first.
        let mut bytes = sound;
        let cfb = Cfb::parse(&bytes).unwrap();
        let stream = cfb.entries.iter().find(|e| e.name == "Workbook").unwrap();
        let chain = cfb.chain(stream.start);
        let last = *chain.last().unwrap() as usize;
        bytes[fat_at + 4 * last..fat_at + 4 * last + 4].copy_from_slice(&chain[0].to_le_bytes());
        assert_eq!(
            Cfb::parse(&bytes).unwrap().damage(),
            Some("a stream's sector chain loops back on itself")
        );
    }

    #[test]
    fn rejects_garbage() {
        assert!(Cfb::parse(b"").is_none());
        let mut bytes = MAGIC.to_vec();
        bytes.resize(4096, 0xAB);
        assert!(Cfb::parse(&bytes).is_none());
        let mut bytes = testfile::build(&[("Workbook", b"x")]);
        bytes.truncate(600);
        assert!(Cfb::parse(&bytes).is_none());
    }
}
