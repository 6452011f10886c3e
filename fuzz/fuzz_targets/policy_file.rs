//! Policy files: parsing never panics, and a policy that parses prints back to a file that
//! parses to the same policy.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(a) = interpose::policy::parse_file_text("fuzz.toml", text) else { return };
    let printed = interpose::policy::print::to_toml(&a);
    let b = interpose::policy::parse_file_text("printed.toml", &printed)
        .unwrap_or_else(|e| panic!("printed policy does not parse: {e}\n{printed}"));
    assert!(interpose::policy::print::same(&a, &b), "round trip changed the policy:\n{text}\n->\n{printed}");
    let again = interpose::policy::print::to_toml(&b);
    assert_eq!(printed, again, "printing is not stable");
});
