//! `-e` expressions: parsing never panics, and an inject/fault/trace expression that parses
//! prints back to one that parses to the same policy.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(expr) = std::str::from_utf8(data) else { return };
    let Ok(a) = interpose::policy::build(None, &[expr.to_string()]) else { return };
    let printed: Vec<String> = if let Some(r) = a.inject.first() {
        vec![format!("inject={}", r.to_expr())]
    } else {
        let names: Vec<&str> = a.trace.names().collect();
        vec![format!("trace={}", if names.is_empty() { "none".to_string() } else { names.join(",") })]
    };
    let b = interpose::policy::build(None, &printed)
        .unwrap_or_else(|e| panic!("printed expression does not parse: {e}\n{expr} -> {printed:?}"));
    assert!(interpose::policy::print::same(&a, &b), "round trip changed the policy: {expr} -> {printed:?}");
});
