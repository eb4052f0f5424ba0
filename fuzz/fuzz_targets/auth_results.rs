//! Bytes as an Authentication-Results value and as a header block searched for the trusted one.

fn main() {
    // A panic the daemon would catch as an outcome is not a finding; one it would not is.
    afl::fuzz_nohook!(|data: &[u8]| {
        let _ = intake::fuzzing::auth_results(data);
    });
}
