//! Image references and digests: parsing never panics, and what parses
//! prints back to something that parses to the same reference.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(r) = base::Reference::parse(s) {
        let again = base::Reference::parse(&r.to_string()).expect("a printed reference parses");
        assert_eq!(again.to_string(), r.to_string());
        let _ = r.familiar();
    }
    let _ = base::Reference::parse_tagged(s);
    let _ = base::Digest::parse(s);
});
