//! Raw message bytes through extraction (attachments, inline parts, zip members, forwards).

fn main() {
    // A panic the daemon would catch as an outcome is not a finding; one it would not is.
    afl::fuzz_nohook!(|data: &[u8]| {
        let _ = intake::fuzzing::mail(data);
    });
}
