//! # Text folding and phrase matching
//!
//! Agencies write their own names without accents ("BC giua ky So Y te"), in capitals, in
//! camel case inside file names ("PL1_SoYTe.xlsx") or abbreviated. Matching is done on folded
//! tokens: no diacritics, lower case, words split at punctuation and case changes.

/// Folds text to lower-case ASCII words separated by single spaces.
///
/// `đ`/`Đ` become `d`; other letters lose their combining marks; a change from a lower-case
/// letter to an upper-case one starts a new word, so `SoYTe` folds to `so y te`.
pub fn fold(text: &str) -> String {
    // Each character decomposed on its own, its marks dropped: the same letters as the whole
    // text's NFD without them (canonical reordering only moves marks), without NFD's buffer.
    let mut chars: Vec<char> = Vec::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            chars.push(c);
            continue;
        }
        unicode_normalization::char::decompose_canonical(c, |d| {
            if !unicode_normalization::char::is_combining_mark(d) {
                chars.push(match d {
                    'đ' => 'd',
                    'Đ' => 'D',
                    d => d,
                });
            }
        });
    }
    let mut out = String::with_capacity(chars.len());
    for (i, &ch) in chars.iter().enumerate() {
        if !ch.is_alphanumeric() {
            if !out.is_empty() && !out.ends_with(' ') {
                out.push(' ');
            }
            continue;
        }
        // A word starts at an upper-case letter after a lower-case one ("SoYte"), or at the
        // last capital of a run followed by a lower-case letter ("YTe", "UBNDCao").
        let prev = i.checked_sub(1).map(|j| chars[j]);
        let next = chars.get(i + 1).copied();
        let starts_word = ch.is_uppercase()
            && prev.is_some_and(|p| {
                p.is_lowercase() || (p.is_uppercase() && next.is_some_and(char::is_lowercase))
            });
        if starts_word && !out.ends_with(' ') {
            out.push(' ');
        }
        out.extend(ch.to_lowercase());
    }
    while out.ends_with(' ') {
        out.pop();
    }
    out
}

/// The folded words of a text.
pub fn tokens(text: &str) -> Vec<String> {
    fold(text)
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A phrase prepared for matching: its folded words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phrase(Vec<String>);

impl Phrase {
    /// Prepares a phrase; an empty phrase never matches.
    pub fn new(text: &str) -> Self {
        Phrase(tokens(text))
    }

    /// Number of words, used to prefer the longest (most specific) match.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True for a phrase with no words.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True when the phrase occurs as whole consecutive words in `words`.
    pub fn occurs_in<S: AsRef<str>>(&self, words: &[S]) -> bool {
        !self.0.is_empty()
            && words
                .windows(self.0.len())
                .any(|w| w.iter().zip(&self.0).all(|(a, b)| a.as_ref() == b.as_str()))
    }
}

/// True for characters a sender could use to disguise text: bidirectional overrides and
/// isolates (a name `Phụ lục I\u{202E}slx.exe` shows as "…exe.xls"), zero-width and other
/// format characters, and control characters.
pub fn is_disguising(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}'
            | '\u{061C}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}' | '\u{180E}' | '\u{00AD}')
}

/// Text a sender wrote, made safe to quote: disguising characters removed (line breaks and
/// tabs become spaces), runs of spaces folded, and cut to `max` characters with "…".
pub fn bounded(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max * 4 + 4));
    let mut count = 0;
    let mut space = false;
    for c in text.chars() {
        let c = if matches!(c, '\n' | '\r' | '\t') {
            ' '
        } else {
            c
        };
        if is_disguising(c) {
            continue;
        }
        if c == ' ' {
            if space || count == 0 {
                continue;
            }
            space = true;
        } else {
            space = false;
        }
        if count == max {
            let trimmed = out.trim_end().len();
            out.truncate(trimmed);
            out.push('…');
            return out;
        }
        out.push(c);
        count += 1;
    }
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_normalization::UnicodeNormalization;

    #[test]
    fn folds_vietnamese_and_case() {
        assert_eq!(fold("Sở Y tế"), "so y te");
        assert_eq!(fold("UBND HUYỆN CAO LỘC"), "ubnd huyen cao loc");
        assert_eq!(fold("Đình Lập"), "dinh lap");
        assert_eq!(fold("PL1_SoYTe.xlsx"), "pl1 so y te xlsx");
        assert_eq!(fold("Sở NN&PTNT"), "so nn ptnt");
        assert_eq!(fold("UBNDCaoLoc"), "ubnd cao loc");
        assert_eq!(fold("KH2019 SYT"), "kh2019 syt");
        // NFD input (as macOS sends) folds the same as NFC.
        let nfd: String = "Phụ lục".nfd().collect();
        assert_eq!(fold(&nfd), "phu luc");
    }

    #[test]
    fn phrases_match_whole_words_only() {
        let words = tokens("Phụ lục II - Cơ cấu lại");
        assert!(Phrase::new("phu luc ii").occurs_in(&words));
        assert!(!Phrase::new("phu luc i").occurs_in(&words));
        assert!(!Phrase::new("").occurs_in(&words));
        assert!(Phrase::new("BC giua ky So Y te").occurs_in(&tokens("Fwd: BC giữa kỳ Sở Y tế")));
    }

    #[test]
    fn quoted_text_is_bounded_and_undisguised() {
        assert_eq!(bounded("Phụ lục I\u{202E}slx.exe", 100), "Phụ lục Islx.exe");
        assert_eq!(bounded("  a\r\n  b\u{200B}c ", 100), "a bc");
        let long = "x".repeat(2_000_000);
        let cut = bounded(&long, 200);
        assert_eq!(cut.chars().count(), 201);
        assert!(cut.ends_with('…'));
        assert_eq!(bounded("Báo cáo", 7), "Báo cáo");
    }
}
