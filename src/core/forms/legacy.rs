//! # Legacy Vietnamese fonts: TCVN3 and VNI text to Unicode
//!
//! Old district workbooks carry text typed with pre-Unicode fonts. The workbook stores the
//! font's bytes as the Latin-1 characters of those bytes, so "Bảo Thắng" arrives as
//! "B¶o Th¾ng" (TCVN3, fonts ".VnTime", ".VnArial") or "Baûo Thaéng" (VNI, "VNI-Times").
//! Such text is converted only when converting it turns words that are not Vietnamese
//! syllables into words that are, so Unicode Vietnamese, French or German text is left alone.
//!
//! Sources. **TCVN3** is the VN3 set of TCVN 5712:1993: one byte per precomposed letter, 67
//! lower-case letters (the 12 vowels with 5 tones, ă â ê ô ơ ư đ) and the 7 capitals Ă Â Ê Ô
//! Ơ Ư Đ; the table below was checked code by code against glibc's `TCVN5712-1` charmap,
//! whose upper half agrees with VN3 for every VN3 code. VN3 has no capitals with tones: the
//! ".VnTimeH" fonts drew capitals at the lower-case codes, so those codes map to lower case,
//! and back to capitals only when every other cased letter of the word (at least two) is a
//! capital ("§¹I HéI" → "ĐẠI HỘI", but "Bµ" → "Bà"). The extra capitals of the full
//! TCVN 5712 (VN1) set, in control and 0x80–0x9F codes, are not VN3 and are not read.
//! **VNI** is the VNI-Windows encoding: a base letter followed by a mark character ("aù" = á,
//! "aâ" = â, "aá" = ấ, "aé" = ắ), with ơ ư đ and the toned i and ỵ typed as one character
//! ("ô", "ö", "ñ", "æ" = ỉ, "î" = ỵ); the tables were checked against a published converter's
//! VNI table and, in the tests, against an encoder built from Unicode decompositions.

use std::collections::HashSet;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// The legacy encoding a text seems to be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Legacy {
    /// TCVN3 (TCVN 5712:1993 VN3), the ".Vn" fonts.
    Tcvn3,
    /// VNI-Windows, the "VNI-" fonts.
    Vni,
}

/// TCVN3: byte → letter, sorted by byte. Bytes from 0xA8 up are the lower-case letters, which
/// the ".VnTimeH" fonts also drew as capitals.
const TCVN3: [(u8, char); 74] = [
    (0xA1, 'Ă'),
    (0xA2, 'Â'),
    (0xA3, 'Ê'),
    (0xA4, 'Ô'),
    (0xA5, 'Ơ'),
    (0xA6, 'Ư'),
    (0xA7, 'Đ'),
    (0xA8, 'ă'),
    (0xA9, 'â'),
    (0xAA, 'ê'),
    (0xAB, 'ô'),
    (0xAC, 'ơ'),
    (0xAD, 'ư'),
    (0xAE, 'đ'),
    (0xB5, 'à'),
    (0xB6, 'ả'),
    (0xB7, 'ã'),
    (0xB8, 'á'),
    (0xB9, 'ạ'),
    (0xBB, 'ằ'),
    (0xBC, 'ẳ'),
    (0xBD, 'ẵ'),
    (0xBE, 'ắ'),
    (0xC6, 'ặ'),
    (0xC7, 'ầ'),
    (0xC8, 'ẩ'),
    (0xC9, 'ẫ'),
    (0xCA, 'ấ'),
    (0xCB, 'ậ'),
    (0xCC, 'è'),
    (0xCE, 'ẻ'),
    (0xCF, 'ẽ'),
    (0xD0, 'é'),
    (0xD1, 'ẹ'),
    (0xD2, 'ề'),
    (0xD3, 'ể'),
    (0xD4, 'ễ'),
    (0xD5, 'ế'),
    (0xD6, 'ệ'),
    (0xD7, 'ì'),
    (0xD8, 'ỉ'),
    (0xDC, 'ĩ'),
    (0xDD, 'í'),
    (0xDE, 'ị'),
    (0xDF, 'ò'),
    (0xE1, 'ỏ'),
    (0xE2, 'õ'),
    (0xE3, 'ó'),
    (0xE4, 'ọ'),
    (0xE5, 'ồ'),
    (0xE6, 'ổ'),
    (0xE7, 'ỗ'),
    (0xE8, 'ố'),
    (0xE9, 'ộ'),
    (0xEA, 'ờ'),
    (0xEB, 'ở'),
    (0xEC, 'ỡ'),
    (0xED, 'ớ'),
    (0xEE, 'ợ'),
    (0xEF, 'ù'),
    (0xF1, 'ủ'),
    (0xF2, 'ũ'),
    (0xF3, 'ú'),
    (0xF4, 'ụ'),
    (0xF5, 'ừ'),
    (0xF6, 'ử'),
    (0xF7, 'ữ'),
    (0xF8, 'ứ'),
    (0xF9, 'ự'),
    (0xFA, 'ỳ'),
    (0xFB, 'ỷ'),
    (0xFC, 'ỹ'),
    (0xFD, 'ý'),
    (0xFE, 'ỵ'),
];

/// First TCVN3 byte of a lower-case letter (a code shared with the ".VnTimeH" capitals).
const TCVN3_FIRST_LOWER: u8 = 0xA8;

/// VNI letters typed as one character (í and ì are the same in VNI and Unicode).
const VNI_LETTERS: [(char, char); 14] = [
    ('ô', 'ơ'),
    ('Ô', 'Ơ'),
    ('ö', 'ư'),
    ('Ö', 'Ư'),
    ('ñ', 'đ'),
    ('Ñ', 'Đ'),
    ('æ', 'ỉ'),
    ('Æ', 'Ỉ'),
    ('ó', 'ĩ'),
    ('Ó', 'Ĩ'),
    ('ò', 'ị'),
    ('Ò', 'Ị'),
    ('î', 'ỵ'),
    ('Î', 'Ỵ'),
];

/// Which letters a VNI mark character may follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Takes {
    /// A tone alone: any vowel but i, including ơ and ư.
    Vowel,
    /// A circumflex, with or without a tone: a, e, o.
    CircumflexBase,
    /// A breve, with or without a tone: a.
    BreveBase,
}

/// VNI mark characters (lower-case and capital form) and the combining marks they stand for.
const VNI_MARKS: [(char, char, &str, Takes); 17] = [
    ('ù', 'Ù', "\u{301}", Takes::Vowel),
    ('ø', 'Ø', "\u{300}", Takes::Vowel),
    ('û', 'Û', "\u{309}", Takes::Vowel),
    ('õ', 'Õ', "\u{303}", Takes::Vowel),
    ('ï', 'Ï', "\u{323}", Takes::Vowel),
    ('â', 'Â', "\u{302}", Takes::CircumflexBase),
    ('á', 'Á', "\u{302}\u{301}", Takes::CircumflexBase),
    ('à', 'À', "\u{302}\u{300}", Takes::CircumflexBase),
    ('å', 'Å', "\u{302}\u{309}", Takes::CircumflexBase),
    ('ã', 'Ã', "\u{302}\u{303}", Takes::CircumflexBase),
    ('ä', 'Ä', "\u{302}\u{323}", Takes::CircumflexBase),
    ('ê', 'Ê', "\u{306}", Takes::BreveBase),
    ('é', 'É', "\u{306}\u{301}", Takes::BreveBase),
    ('è', 'È', "\u{306}\u{300}", Takes::BreveBase),
    ('ú', 'Ú', "\u{306}\u{309}", Takes::BreveBase),
    ('ü', 'Ü', "\u{306}\u{303}", Takes::BreveBase),
    ('ë', 'Ë', "\u{306}\u{323}", Takes::BreveBase),
];

/// Detects TCVN3 or VNI text (None for Unicode or plain ASCII): only when converting it yields plausible Vietnamese.
///
/// A word counts *for* an encoding when it is not a Vietnamese syllable as it stands and
/// becomes one once converted, *against* it when converting gives no syllable. The encoding
/// is found when
/// - at least twice as many words count for it as against;
/// - one of them shows the encoding as no other language does (TCVN3 "¶", "×" or a capital
///   inside a word; a VNI mark after a vowel, or "ñ"; or it becomes a frequent word of
///   planning reports), or two words count for it: a lone "Dë" or "søn" is not TCVN3;
/// - more than half of the words are syllables once converted (a third, when two count for it).
///
/// All-capital abbreviations ("UBND", "GD§T") are left out unless the whole text is in
/// capitals. Unicode Vietnamese is never found: its words are syllables already. A short cell
/// can be undecidable ("Cao Léc" is TCVN3 for "Cao Lộc" but well-formed as it stands):
/// [`detect_all`] judges a sheet's cells together.
pub fn detect(text: &str) -> Option<Legacy> {
    detect_all([text])
}

/// Detects the legacy encoding of several texts taken together, such as the labels of a sheet.
pub fn detect_all<'a>(texts: impl IntoIterator<Item = &'a str>) -> Option<Legacy> {
    let texts: Vec<&str> = texts.into_iter().collect();
    // Only a word that is no syllable as it stands and that conversion changes can count for
    // an encoding (`Evidence::fixed`), and an encoding is found only when one does. Both
    // encodings change only characters of the Latin-1 upper half, so a sheet none of whose
    // words is such a word — Unicode Vietnamese, numbers written as text, English — is
    // decided without converting a word.
    let mut syllables = std::collections::HashSet::new();
    if !texts
        .iter()
        .any(|t| may_count_for_an_encoding(t, &mut syllables))
    {
        return None;
    }
    weigh(&texts)
}

/// Weighs every word of the texts for each encoding (see [`detect`]).
fn weigh(texts: &[&str]) -> Option<Legacy> {
    let mut tcvn3 = Evidence::default();
    let mut vni = Evidence::default();
    for &text in texts {
        tcvn3.add(evidence(text, Legacy::Tcvn3));
        vni.add(evidence(text, Legacy::Vni));
    }
    // On a tie TCVN3 wins: it was the northern and the government standard.
    match (tcvn3.plausible(), vni.plausible()) {
        (true, true) if vni.rank() > tcvn3.rank() => Some(Legacy::Vni),
        (true, _) => Some(Legacy::Tcvn3),
        (false, true) => Some(Legacy::Vni),
        (false, false) => None,
    }
}

/// Whether some word of the text may be a legacy word: it holds a character both encodings
/// take as a letter or a mark (U+0080..U+00FF) and is not a syllable as it stands.
/// `syllables`: words already found to be syllables (a sheet repeats its words).
fn may_count_for_an_encoding<'t>(text: &'t str, syllables: &mut HashSet<&'t str>) -> bool {
    text.split(is_separator).any(|word| {
        if !word.chars().any(|c| ('\u{80}'..='\u{ff}').contains(&c)) || syllables.contains(word) {
            return false;
        }
        let syllable = is_syllable(&word.nfc().collect::<String>());
        if syllable {
            syllables.insert(word);
        }
        !syllable
    })
}

/// Converts legacy text to NFC Unicode.
pub fn to_unicode(text: &str, from: Legacy) -> String {
    let converted = match from {
        Legacy::Tcvn3 => tcvn3_to_unicode(text),
        Legacy::Vni => vni_to_unicode(text),
    };
    converted.nfc().collect()
}

/// Detects and converts if needed: returns the Unicode text (NFC either way) and which encoding was found.
pub fn normalise(text: &str) -> (String, Option<Legacy>) {
    match detect(text) {
        Some(from) => (to_unicode(text, from), Some(from)),
        None => (text.nfc().collect(), None),
    }
}

/// How a text's words fare when converted from one encoding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Evidence {
    /// Words that are syllables only once converted.
    fixed: usize,
    /// Fixed words and abbreviations with a sign of the encoding that other languages' words
    /// do not show.
    strong: usize,
    /// Words that conversion changes into something that is not a syllable.
    broken: usize,
    /// Words that are syllables once converted.
    valid: usize,
    /// Words weighed.
    words: usize,
}

impl Evidence {
    fn add(&mut self, other: Evidence) {
        self.fixed += other.fixed;
        self.strong += other.strong;
        self.broken += other.broken;
        self.valid += other.valid;
        self.words += other.words;
    }

    fn plausible(&self) -> bool {
        self.fixed >= 1
            && (self.strong >= 1 || self.fixed >= 2)
            && self.fixed >= 2 * self.broken
            && (2 * self.valid > self.words || self.fixed >= 2 && 3 * self.valid >= self.words)
    }

    /// Orders two plausible readings: words fixed less twice those broken, then syllables.
    fn rank(&self) -> (isize, usize) {
        (self.fixed as isize - 2 * self.broken as isize, self.valid)
    }
}

fn evidence(text: &str, from: Legacy) -> Evidence {
    let mut e = Evidence::default();
    let has_lower_case = text.chars().any(char::is_lowercase);
    for word in text.split(is_separator).filter(|w| !w.is_empty()) {
        let before: String = word.nfc().collect();
        let after = to_unicode(word, from);
        let changed = after != before;
        let valid_after = is_syllable(&after);
        // "UBND", "GD§T" → "GDĐT": abbreviations say nothing, except in a text all in
        // capitals, where they cannot be told from words.
        let abbreviation = after.chars().count() > 1 && after.chars().all(char::is_uppercase);
        if abbreviation && !valid_after && has_lower_case {
            e.strong += usize::from(changed && is_strong(word, from));
            continue;
        }
        e.words += 1;
        e.valid += usize::from(valid_after);
        if changed {
            match (is_syllable(&before), valid_after) {
                (false, true) => {
                    e.fixed += 1;
                    let frequent = is_frequent(&after.to_lowercase());
                    e.strong += usize::from(frequent || is_strong(word, from));
                }
                (_, false) => e.broken += 1,
                (true, true) => {}
            }
        }
    }
    e
}

/// Whether a word shows its encoding in a way words of other languages do not ("Dë", "søn"
/// and "Sèp" do not): for TCVN3 a Latin-1 symbol used as a letter (¶ ¸ × ÷) or a Latin-1
/// capital inside a word with lower-case letters ("tÕ", "DÞch"); for VNI a mark character
/// after a vowel ("teá", "Sôû") or "ñ" in a word that becomes a syllable, where đ can only
/// come first ("Ñôn"; Spanish words hardly ever start with ñ).
fn is_strong(word: &str, from: Legacy) -> bool {
    let chars: Vec<char> = word.chars().collect();
    match from {
        Legacy::Tcvn3 => chars.iter().enumerate().any(|(i, &c)| {
            let symbol = ('\u{a1}'..='\u{bf}').contains(&c) || c == '×' || c == '÷';
            let capital_inside = ('\u{c0}'..='\u{de}').contains(&c)
                && i > 0
                && chars.iter().any(|l| l.is_lowercase())
                && tcvn3_letter(c).is_some();
            symbol && tcvn3_letter(c).is_some() || capital_inside
        }),
        Legacy::Vni => {
            chars.contains(&'ñ')
                || chars.contains(&'Ñ')
                || chars.windows(2).any(|w| {
                    let letter = VNI_LETTERS
                        .iter()
                        .find(|(k, _)| *k == w[0])
                        .map_or(w[0], |&(_, l)| l);
                    let base = letter.to_lowercase().next().unwrap_or(letter);
                    "aeiouyơư".contains(base)
                        && VNI_MARKS.iter().any(|&(l, u, _, takes)| {
                            (w[1] == l || w[1] == u) && accepts(base, takes)
                        })
                })
        }
    }
}

/// Frequent syllables of planning reports ("sở", "phụ lục", "tổng", "tỉnh"), sorted. A word
/// that is not a syllable as it stands and converts to one of these is strong evidence, even
/// when its legacy form uses only letters other languages use too ("Së", "lôc", "tænh"). It
/// cannot mislead on Unicode Vietnamese, whose words are syllables as they stand.
const FREQUENT: &str = "
    an ba ban binh biểu bàn bác báo bình bản bảo bảy bệnh bốn bộ che chi cho chuẩn chín chính
    chương chỉ chủ chức các cáo có công cơ cư cả cảnh cấu cục của cứng cửa diện doanh du dân
    dưới dịch dục dự dựng em gia giai giao giá giáo giường giảm ha hai hiểm hiện hoàn hoá hoạch
    huy huyện hàng hành hóa hải học hộ hội hợp hữu khoa khoẻ khu khác không khẩu khỏe khối kinh
    kế lao luỹ làm lý lũy lương lượng lệ lịch lớp lợi lục môi mười mại mẫu một mới mục mức
    nghiệp nghèo nghìn nghề nghệ nguyên ngân người nhà nhân nhập những ninh này nông năm nước
    nội pháp phát phòng phương phường phẩm phố phụ quan quân quốc quỹ rác rừng sinh so sách
    sánh sát sáu sĩ sạch sản sẽ số sở sức sự sỹ thanh thao theo thu thuế thuỷ thành thôn thông
    thương thải thể thị thủy thực tin tiêu toàn tra triển triệu trong truyền trên trình trăm
    trường trưởng trạm trấn trẻ trị trọng trồng tuổi tài tác tám tích tính tăng tư tại tạo tải
    tấn tế tỉ tỉnh tốc tổ tổng từ tỷ viên việc viện và văn vượt vận về vệ vị vốn với vụ xuất
    xây xã xử y án điểm đoạn đào đã đình đô đơn đường được đại đạt đầu đến để địa đồng độ động
    ước ở ủy
";

fn is_frequent(syllable: &str) -> bool {
    FREQUENT.split_whitespace().any(|w| w == syllable)
}

/// Characters between words. Latin-1 symbols (¶ ¸ ­ ×) are letters in the legacy encodings.
fn is_separator(c: char) -> bool {
    if c.is_ascii() {
        return !c.is_ascii_alphabetic();
    }
    if c.is_whitespace() || u32::from(c) < 0xA0 {
        return true;
    }
    u32::from(c) > 0xFF && !(c.is_alphabetic() || is_combining_mark(c))
}

fn tcvn3_letter(c: char) -> Option<(char, bool)> {
    let byte = u8::try_from(u32::from(c)).ok()?;
    let i = TCVN3.binary_search_by_key(&byte, |&(b, _)| b).ok()?;
    Some((TCVN3[i].1, byte >= TCVN3_FIRST_LOWER))
}

fn tcvn3_to_unicode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    let mut word: Vec<char> = Vec::new();
    for c in text.chars() {
        if is_separator(c) {
            tcvn3_word(&word, &mut out);
            word.clear();
            out.push(c);
        } else {
            word.push(c);
        }
    }
    tcvn3_word(&word, &mut out);
    out
}

/// Converts one word, restoring ".VnTimeH" capitals in words written in capitals.
fn tcvn3_word(word: &[char], out: &mut String) {
    // (letter, whether its code is shared by a lower-case letter and a ".VnTimeH" capital)
    let letters: Vec<(char, bool)> = word
        .iter()
        .map(|&c| tcvn3_letter(c).unwrap_or((c, false)))
        .collect();
    let cased: Vec<char> = letters
        .iter()
        .filter(|&&(c, shared)| !shared && (c.is_uppercase() || c.is_lowercase()))
        .map(|&(c, _)| c)
        .collect();
    let in_capitals = cased.len() >= 2 && cased.iter().all(|c| c.is_uppercase());
    for (c, shared) in letters {
        if shared && in_capitals {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
    }
}

fn vni_to_unicode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    // The last letter, if a vowel that has no mark yet: the one a mark character applies to.
    let mut base: Option<char> = None;
    for c in text.chars() {
        if let Some(&(_, _, marks, takes)) = VNI_MARKS.iter().find(|m| m.0 == c || m.1 == c)
            && let Some(b) = base
            && accepts(b, takes)
        {
            out.push_str(marks);
            base = None;
            continue;
        }
        let letter = VNI_LETTERS
            .iter()
            .find(|(k, _)| *k == c)
            .map_or(c, |&(_, l)| l);
        out.push(letter);
        base = letter
            .to_lowercase()
            .next()
            .filter(|l| "aeiouyơư".contains(*l));
    }
    out
}

fn accepts(base: char, takes: Takes) -> bool {
    match takes {
        // VNI types the toned i as one character ("í", "æ", "ó", "ò"): a mark never follows i.
        Takes::Vowel => base != 'i',
        Takes::CircumflexBase => matches!(base, 'a' | 'e' | 'o'),
        Takes::BreveBase => base == 'a',
    }
}

/// The five tone marks, as combining characters.
const TONES: [char; 5] = ['\u{300}', '\u{301}', '\u{303}', '\u{309}', '\u{323}'];

/// Initial consonants, longest first; the empty one last.
const INITIALS: [&str; 28] = [
    "ngh", "ng", "nh", "ch", "gh", "gi", "kh", "ph", "qu", "th", "tr", "b", "c", "d", "đ", "g",
    "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x", "",
];

/// Final consonants; the empty one last.
const FINALS: [&str; 9] = ["ch", "ng", "nh", "c", "m", "n", "p", "t", ""];

/// A vowel group: its vowels, whether it may end a syllable, whether it may come before a
/// final, and which of its vowels may carry the tone (bit i for the i-th vowel).
type Nucleus = (&'static str, bool, bool, u8);

/// The vowel groups of Vietnamese spelling. The tone sits on the main vowel, never on the
/// glide of "ao", "ay", "eo" (VNI "baû" read as TCVN3 gives "baỷ", not "bảy"); "oa", "oe",
/// "uê", "uy" take it on either vowel, old style ("hòa") and new ("hoà"). The "oo" of a few
/// loanwords ("xoong") is left out: VNI "oä" read as TCVN3 would give "oọ".
const NUCLEI: [Nucleus; 54] = [
    ("a", true, true, 0b1),
    ("ă", false, true, 0b1),
    ("â", false, true, 0b1),
    ("e", true, true, 0b1),
    ("ê", true, true, 0b1),
    ("i", true, true, 0b1),
    ("o", true, true, 0b1),
    ("ô", true, true, 0b1),
    ("ơ", true, true, 0b1),
    ("u", true, true, 0b1),
    ("ư", true, true, 0b1),
    ("y", true, true, 0b1),
    ("oa", true, true, 0b11),
    ("oe", true, true, 0b11),
    ("uê", true, true, 0b11),
    ("uy", true, true, 0b11),
    ("uơ", true, false, 0b10),
    ("iê", false, true, 0b10),
    ("yê", false, true, 0b10),
    ("uô", false, true, 0b10),
    ("ươ", false, true, 0b10),
    ("oă", false, true, 0b10),
    ("uâ", false, true, 0b10),
    ("uyê", false, true, 0b100),
    ("ai", true, false, 0b1),
    ("ao", true, false, 0b1),
    ("au", true, false, 0b1),
    ("ay", true, false, 0b1),
    ("âu", true, false, 0b1),
    ("ây", true, false, 0b1),
    ("eo", true, false, 0b1),
    ("êu", true, false, 0b1),
    ("ia", true, false, 0b1),
    ("iu", true, false, 0b1),
    ("oi", true, false, 0b1),
    ("ôi", true, false, 0b1),
    ("ơi", true, false, 0b1),
    ("ua", true, false, 0b1),
    ("ui", true, false, 0b1),
    ("ưa", true, false, 0b1),
    ("ưi", true, false, 0b1),
    ("ưu", true, false, 0b1),
    ("iêu", true, false, 0b10),
    ("yêu", true, false, 0b10),
    ("oai", true, false, 0b10),
    ("oao", true, false, 0b10),
    ("oay", true, false, 0b10),
    ("oeo", true, false, 0b10),
    ("uây", true, false, 0b10),
    ("uôi", true, false, 0b10),
    ("uya", true, false, 0b10),
    ("uyu", true, false, 0b10),
    ("ươi", true, false, 0b10),
    ("ươu", true, false, 0b10),
];

/// A tone: its combining mark and the letter it sits on (counted in composed letters).
type Tone = (char, usize);

/// Whether a word is a Vietnamese syllable: initial, vowels, final and at most one tone, in a
/// shape Vietnamese spelling allows (the tone on the main vowel; finals c, ch, p, t only with
/// the sắc or nặng tone; nh and ch only after front vowels), in lower case, capitalised or in
/// capitals.
fn is_syllable(word: &str) -> bool {
    let mut tone: Option<Tone> = None;
    let mut after_vowel = false;
    let mut count = 0;
    let mut letters = String::with_capacity(word.len());
    // Written in lower case, capitalised or in capitals; never "tÕ" or "huyÖn".
    let (mut lower, mut upper_after_first) = (false, false);
    for c in word.nfd() {
        if TONES.contains(&c) {
            if tone.is_some() || !after_vowel {
                return false;
            }
            tone = Some((c, count - 1));
        } else {
            if !is_combining_mark(c) {
                after_vowel = matches!(c.to_ascii_lowercase(), 'a' | 'e' | 'i' | 'o' | 'u' | 'y');
                lower |= c.is_lowercase();
                upper_after_first |= count > 0 && c.is_uppercase();
                count += 1;
            }
            letters.extend(c.to_lowercase());
        }
    }
    if lower && upper_after_first {
        return false;
    }
    let letters: String = letters.nfc().collect();
    if letters.chars().count() != count
        || !letters
            .chars()
            .all(|c| c.is_ascii_lowercase() && !"fjwz".contains(c) || "ăâêôơưđ".contains(c))
    {
        return false;
    }
    INITIALS.iter().any(|initial| {
        letters.strip_prefix(initial).is_some_and(|rest| {
            let skip = initial.chars().count();
            let tone = match tone {
                Some((mark, at)) if at >= skip => Some((mark, at - skip)),
                Some(_) => return false,
                None => None,
            };
            is_rime(rest, tone)
        })
    })
}

/// Whether vowels and final make a rime; the tone's letter is counted from the start of `rest`.
fn is_rime(rest: &str, tone: Option<Tone>) -> bool {
    FINALS.iter().any(|fin| {
        let Some(vowels) = rest.strip_suffix(fin) else {
            return false;
        };
        let stop = matches!(*fin, "c" | "ch" | "p" | "t");
        if stop && !matches!(tone, Some(('\u{301}' | '\u{323}', _))) {
            return false;
        }
        // "nh" and "ch" follow front vowels only; "ng" and "c" never follow i or y.
        let fits = match *fin {
            "nh" | "ch" => matches!(vowels, "a" | "ê" | "i" | "y" | "oa" | "uê" | "uy"),
            "ng" | "c" => !matches!(vowels, "i" | "y" | "uy"),
            _ => true,
        };
        fits && NUCLEI.iter().any(|&(v, open, closed, tone_at)| {
            v == vowels
                && if fin.is_empty() { open } else { closed }
                && tone.is_none_or(|(_, at)| at < 8 && tone_at & (1 << at) != 0)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unicode → TCVN3 through the inverse of the table; capitals with tones take the
    /// lower-case code, as the ".VnTimeH" fonts did.
    pub(super) fn to_tcvn3(text: &str) -> String {
        let code = |c: char| {
            TCVN3
                .iter()
                .find(|&&(_, l)| l == c)
                .map(|&(b, _)| char::from(b))
        };
        text.nfc()
            .map(|c| {
                code(c)
                    .or_else(|| c.to_lowercase().next().and_then(code))
                    .unwrap_or(c)
            })
            .collect()
    }

    /// Unicode → VNI, built from the letters' decomposition rather than from the decoder's
    /// tables, so that the two check each other.
    pub(super) fn to_vni(text: &str) -> String {
        let mut out = String::new();
        for c in text.nfc() {
            if c.is_ascii() {
                out.push(c);
                continue;
            }
            let upper = c.is_uppercase();
            let (mut base, mut circumflex, mut breve, mut horn, mut tone) =
                (' ', false, false, false, None);
            for d in c.to_lowercase().nfd() {
                match d {
                    '\u{302}' => circumflex = true,
                    '\u{306}' => breve = true,
                    '\u{31b}' => horn = true,
                    '\u{300}' => tone = Some(1),
                    '\u{301}' => tone = Some(0),
                    '\u{309}' => tone = Some(2),
                    '\u{303}' => tone = Some(3),
                    '\u{323}' => tone = Some(4),
                    b => base = b,
                }
            }
            // Index by tone: sắc, huyền, hỏi, ngã, nặng.
            let typed = match (base, horn, tone) {
                ('đ', _, _) => "ñ".to_owned(),
                ('i', _, Some(t)) => ["í", "ì", "æ", "ó", "ò"][t].to_owned(),
                ('y', _, Some(4)) => "î".to_owned(),
                (b, horn, tone) => {
                    let letter = match (b, horn) {
                        ('o', true) => "ô".to_owned(),
                        ('u', true) => "ö".to_owned(),
                        (b, _) => b.to_string(),
                    };
                    let mark = match (circumflex, breve, tone) {
                        (true, _, None) => "â",
                        (true, _, Some(t)) => ["á", "à", "å", "ã", "ä"][t],
                        (_, true, None) => "ê",
                        (_, true, Some(t)) => ["é", "è", "ú", "ü", "ë"][t],
                        (_, _, None) => "",
                        (_, _, Some(t)) => ["ù", "ø", "û", "õ", "ï"][t],
                    };
                    letter + mark
                }
            };
            if upper {
                out.push_str(&typed.to_uppercase());
            } else {
                out.push_str(&typed);
            }
        }
        out
    }

    /// Every Vietnamese vowel letter with every tone, lower case then capitals, and đ Đ.
    fn all_letters() -> Vec<char> {
        let mut letters = Vec::new();
        for base in "aăâeêioôơuưy".chars() {
            for tone in ["", "\u{300}", "\u{301}", "\u{303}", "\u{309}", "\u{323}"] {
                let s: String = format!("{base}{tone}").nfc().collect();
                assert_eq!(s.chars().count(), 1, "{s}");
                letters.extend(s.chars());
            }
        }
        let capitals: Vec<char> = letters.iter().flat_map(|c| c.to_uppercase()).collect();
        letters.extend(capitals);
        letters.extend(['đ', 'Đ']);
        letters
    }

    const PHRASES: [&str; 16] = [
        "Tràng Định",
        "Văn Lãng",
        "Văn Quan",
        "Bình Gia",
        "Bắc Sơn",
        "Hữu Lũng",
        "Chi Lăng",
        "Cao Lộc",
        "Lộc Bình",
        "Đình Lập",
        "thành phố Lạng Sơn",
        "Sở Kế hoạch và Đầu tư",
        "Tổng sản phẩm trên địa bàn",
        "Tỷ lệ hộ nghèo",
        "Chỉ tiêu",
        "Đơn vị tính",
    ];

    #[test]
    fn tcvn3_table_is_complete_and_consistent() {
        // 60 toned lower-case vowels, ă â ê ô ơ ư đ, and Ă Â Ê Ô Ơ Ư Đ.
        assert_eq!(TCVN3.len(), 74);
        assert!(
            TCVN3.windows(2).all(|w| w[0].0 < w[1].0),
            "sorted, no repeats"
        );
        let mut letters: Vec<char> = TCVN3.iter().map(|&(_, l)| l).collect();
        letters.sort_unstable();
        letters.dedup();
        assert_eq!(letters.len(), 74);
        for (b, l) in TCVN3 {
            assert_eq!(l.is_lowercase(), b >= TCVN3_FIRST_LOWER, "{b:#x} {l}");
        }
        // Every lower-case letter round-trips; capitals with tones come back in lower case.
        for c in all_letters() {
            let back = to_unicode(&to_tcvn3(&c.to_string()), Legacy::Tcvn3);
            let shared = !c.is_ascii() && TCVN3.iter().all(|&(_, l)| l != c);
            let expected: String = if shared {
                c.to_lowercase().collect()
            } else {
                c.to_string()
            };
            assert_eq!(back, expected, "{c}");
        }
    }

    #[test]
    fn frequent_syllables_are_sorted_syllables() {
        let words: Vec<&str> = FREQUENT.split_whitespace().collect();
        assert!(words.len() > 200);
        assert!(words.windows(2).all(|w| w[0] < w[1]), "sorted, no repeats");
        for w in words {
            assert!(is_syllable(w), "{w}");
            assert_eq!(w.nfc().collect::<String>(), w, "{w} is NFC");
            assert_eq!(w.to_lowercase(), w, "{w} is lower case");
        }
    }

    #[test]
    fn vni_letters_round_trip() {
        let letters = all_letters();
        assert_eq!(letters.len(), 146); // 12 vowels × 6 forms × 2 cases + đ Đ
        for c in letters {
            let typed = to_vni(&c.to_string());
            assert_eq!(
                to_unicode(&typed, Legacy::Vni),
                c.to_string(),
                "{c} typed {typed}"
            );
        }
    }

    /// Deciding without converting when no word may count for an encoding gives what
    /// weighing every word gives: on legacy text, Unicode, numbers written as text, foreign
    /// words and mixtures of them.
    #[test]
    fn the_shortcut_decides_as_weighing_every_word() {
        let samples: &[&[&str]] = &[
            &["B¶o Th¾ng", "Së Y tÕ", "1.234,5"],
            &["Sôû Y teá", "Baûo Thaéng", "12"],
            &[
                "Sở Y tế",
                "Công nghiệp - xây dựng",
                "Tân Thanh",
                "1.234,5",
                "Hà Nội",
            ],
            &["Cao Léc"],
            &["Dë", "søn", "Sèp"],
            &["Café crème brûlée", "Müller Straße", "São Paulo"],
            &["UBND", "GD§T", "TỔNG SỐ"],
            &["Tû lÖ hé nghÌo", "Cao Léc", "Đơn vị tính"],
            &["1.234,5", "6,7", "-12", "2016"],
            &["Kế hoạch 2018", "Thực hiện 2016", "Xã Hoàng Đồng 3"],
            &["Ninh B×nh", "Tỷ lệ hộ nghèo", "M\u{ad}êng Kh\u{ad}\u{ac}ng"],
            &["Xin chaøo caùc baïn", "Kính gửi"],
            &["naêm", "ñoàng"],
        ];
        for texts in samples {
            assert_eq!(detect_all(texts.iter().copied()), weigh(texts), "{texts:?}");
        }
        assert_eq!(detect_all(["Sở Y tế", "Tân Thanh", "1.234,5"]), None);
        assert_eq!(detect_all(["B¶o Th¾ng", "Së Y tÕ"]), Some(Legacy::Tcvn3));
    }

    #[test]
    fn known_legacy_strings() {
        let tcvn3 = |s: &str| to_unicode(s, Legacy::Tcvn3);
        let vni = |s: &str| to_unicode(s, Legacy::Vni);
        assert_eq!(tcvn3("B¶o Th¾ng"), "Bảo Thắng");
        assert_eq!(tcvn3("Së Y tÕ"), "Sở Y tế");
        assert_eq!(tcvn3("UBND huyÖn Cao Léc"), "UBND huyện Cao Lộc");
        assert_eq!(tcvn3("Ninh B×nh"), "Ninh Bình");
        assert_eq!(tcvn3("M\u{ad}êng Kh\u{ad}\u{ac}ng"), "Mường Khương");
        assert_eq!(tcvn3("B¸t X¸t"), "Bát Xát");
        assert_eq!(vni("Sôû Y teá"), "Sở Y tế");
        assert_eq!(vni("Baûo Thaéng"), "Bảo Thắng");
        assert_eq!(vni("Xin chaøo caùc baïn"), "Xin chào các bạn");
        assert_eq!(vni("SÔÛ Y TEÁ"), "SỞ Y TẾ");
        assert_eq!(vni("Ñôn vò tính"), "Đơn vị tính");
        // The encoders in these tests agree with the known strings.
        assert_eq!(to_tcvn3("Bảo Thắng"), "B¶o Th¾ng");
        assert_eq!(to_vni("Sở Y tế"), "Sôû Y teá");
    }

    #[test]
    fn tcvn3_capitals_follow_the_word() {
        let tcvn3 = |s: &str| to_unicode(s, Legacy::Tcvn3);
        assert_eq!(tcvn3("§¹I HéI"), "ĐẠI HỘI");
        assert_eq!(tcvn3("HUYÖN CAO LéC"), "HUYỆN CAO LỘC");
        assert_eq!(tcvn3("Bµ"), "Bà");
        assert_eq!(tcvn3("§¸"), "Đá");
        assert_eq!(tcvn3("ViÖt Nam"), "Việt Nam");
        assert_eq!(tcvn3("¬"), "ơ");
        assert_eq!(detect("§¹I HéI §¶NG"), Some(Legacy::Tcvn3));
    }

    #[test]
    fn phrases_are_detected_and_round_trip() {
        for phrase in PHRASES {
            for (from, encoded) in [
                (Legacy::Tcvn3, to_tcvn3(phrase)),
                (Legacy::Vni, to_vni(phrase)),
            ] {
                assert_eq!(to_unicode(&encoded, from), phrase, "{from:?} {encoded}");
                if encoded == phrase {
                    // "Bình Gia" is the same in VNI and Unicode: nothing to find.
                    assert_eq!(detect(&encoded), None, "{encoded}");
                } else if encoded == "Cao Léc" {
                    // TCVN3 for "Cao Lộc", but "Léc" is a well-formed syllable too: alone,
                    // undecidable; with any other legacy cell of its sheet, found.
                    assert_eq!(detect(&encoded), None);
                    assert_eq!(
                        detect_all([encoded.as_str(), "Së Y tÕ"]),
                        Some(Legacy::Tcvn3)
                    );
                } else {
                    assert_eq!(detect(&encoded), Some(from), "{from:?} {encoded}");
                    assert_eq!(normalise(&encoded), (phrase.to_owned(), Some(from)));
                }
            }
        }
        assert_eq!(to_vni("Bình Gia"), "Bình Gia");
        // A whole sheet's worth of labels at once.
        let all = PHRASES.join("; ");
        assert_eq!(detect(&to_tcvn3(&all)), Some(Legacy::Tcvn3));
        assert_eq!(detect(&to_vni(&all)), Some(Legacy::Vni));
        assert_eq!(normalise(&to_vni(&all)).0, all);
    }

    #[test]
    fn unicode_and_other_languages_are_left_alone() {
        let others = [
            "Café résumé",
            "Ärger",
            "ĐẠI HỘI",
            "Đ",
            "Où est-il ?",
            "Crème brûlée à la carte",
            "Müller Straße",
            "São Paulo",
            "Señor Muñoz",
            "La città è più bella di sera.",
            "Perché non è venuto? Però è tardi.",
            "Mañana es sábado y vamos al río.",
            "Não sei onde está o João.",
            "Søndag og mandag er fridage.",
            "Schöne Grüße aus Köln.",
            "Tirana është kryeqyteti i Shqipërisë.",
            "naïve Noël",
            "Ångström",
            "© 2018 ®",
            "GRDP (%)",
            "Dë",
            "Sèp",
            "søn",
            "SØN",
            "Mäe",
            "cüm",
            "În",
            "UBND",
            "",
            "   ",
            "12,5",
        ];
        for text in PHRASES.iter().chain(others.iter()) {
            assert_eq!(detect(text), None, "{text}");
            assert_eq!(normalise(text), (text.to_string(), None), "{text}");
            let upper = text.to_uppercase();
            assert_eq!(detect(&upper), None, "{upper}");
            let nfd: String = text.nfd().collect();
            assert_eq!(detect(&nfd), None, "{text} (NFD)");
            // Decomposed input comes back composed.
            assert_eq!(normalise(&nfd).0, *text);
        }
    }

    #[test]
    fn mixed_cells() {
        // Abbreviations and numbers around legacy words do not hide them.
        assert_eq!(detect("UBND TP L¹ng S¬n"), Some(Legacy::Tcvn3));
        assert_eq!(
            normalise("GRDP (gi¸ so s¸nh 2010), tû ®ång").0,
            "GRDP (giá so sánh 2010), tỷ đồng"
        );
        assert_eq!(detect("Tyû leä hoä ngheøo (%)"), Some(Legacy::Vni));
        // Abbreviations with Đ convert to abbreviations, not syllables, and do not count.
        assert_eq!(normalise("Së GD§T").0, "Sở GDĐT");
        assert_eq!(normalise("H§ND tØnh L¹ng S¬n").0, "HĐND tỉnh Lạng Sơn");
        assert_eq!(normalise("Sôû GD-ÑT").0, "Sở GD-ĐT");
        // One legacy word in a cell is enough.
        assert_eq!(detect("Th¾ng"), Some(Legacy::Tcvn3));
        assert_eq!(detect("tÕ"), Some(Legacy::Tcvn3));
        // Lower-case Latin-1 letters alone are weak evidence, unless the word is a frequent one.
        assert_eq!(detect("Tæng"), Some(Legacy::Tcvn3));
        assert_eq!(normalise("Së GTVT").0, "Sở GTVT");
        assert_eq!(normalise("Phô lôc I").0, "Phụ lục I");
        assert_eq!(normalise("VP UBND tænh").0, "VP UBND tỉnh");
        assert_eq!(detect("Hën"), None);
        assert_eq!(detect_all(["Hën", "s¶n phÈm"]), Some(Legacy::Tcvn3));
        assert_eq!(detect("Toång"), Some(Legacy::Vni));
        // Plain ASCII needs no conversion.
        assert_eq!(detect("Cao Loc"), None);
    }

    #[test]
    fn detect_all_judges_cells_together() {
        let sheet = ["STT", "Cao Léc", "Léc B×nh", "2018", "Tû lÖ hé nghÌo (%)"];
        assert_eq!(detect_all(sheet), Some(Legacy::Tcvn3));
        assert_eq!(to_unicode(sheet[1], Legacy::Tcvn3), "Cao Lộc");
        let unicode = ["STT", "Cao Lộc", "Lộc Bình", "2018", "Tỷ lệ hộ nghèo (%)"];
        assert_eq!(detect_all(unicode), None);
        assert_eq!(detect_all(Vec::<&str>::new()), None);
        // Unicode cells do not outvote legacy ones: they carry no evidence either way.
        let mixed = ["Cao Lộc", "Lộc Bình", "Sôû Y teá"];
        assert_eq!(detect_all(mixed), Some(Legacy::Vni));
    }

    #[test]
    fn syllables() {
        for s in [
            "nghèo", "Nguyễn", "khuya", "quốc", "giữa", "gì", "thuở", "hoặc", "xuân", "khuyết",
            "người", "hươu", "yêu", "oanh", "huých", "tỷ", "Ý", "hòa", "hoà", "Lộc", "ĐẠI", "tiến",
            "Việt", "VIỆT", "NGƯỜI", "giá", "của", "mía", "khuỷu", "uống",
        ] {
            assert!(is_syllable(s), "{s}");
        }
        for s in [
            "ubnd",
            "café",
            "cat",
            "hát\u{301}",
            "tiĕu",
            "aê",
            "Sôû",
            "B¶o",
            "ng",
            "",
            "straße",
            "est",
            "àá",
            "baỷ",
            "taù",
            "leõ",
            "Loọc",
            "bap",
            "bàc",
            "ḿa",
            "xoong",
            "quá\u{300}",
            "tổnh",
            "ônh",
            "ing",
            "ích\u{301}",
            "uych",
            "tÕ",
            "ViỆt",
            "nGười",
        ] {
            assert!(!is_syllable(s), "{s}");
        }
    }
}
