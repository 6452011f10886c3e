//! Process trees, from /proc: the descendants of the processes interpose has seen.
//!
//! Used when interpose must act on the whole program (forwarding SIGINT, or the guardian killing
//! it when interpose dies): a child that has not yet made a trapped call is unknown to the
//! supervisor, but it is in its parent's `/proc/PID/task/TID/children`.

use std::collections::BTreeSet;

/// The children of process `pid` (of all its threads).
pub fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return out };
    for t in tasks.flatten() {
        if let Ok(s) = std::fs::read_to_string(t.path().join("children")) {
            out.extend(s.split_whitespace().filter_map(|p| p.parse::<u32>().ok()));
        }
    }
    out
}

/// `roots` and all their descendants. `visit` is called once for each, in breadth-first order,
/// before its children are listed (so that it can stop a process from forking further).
pub fn walk(roots: &[u32], mut visit: impl FnMut(u32)) -> BTreeSet<u32> {
    let mut seen = BTreeSet::new();
    let mut frontier: Vec<u32> = roots.to_vec();
    while let Some(pid) = frontier.pop() {
        if pid == 0 || !seen.insert(pid) {
            continue;
        }
        visit(pid);
        frontier.extend(children(pid));
    }
    seen
}
