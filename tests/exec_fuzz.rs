//! Executed calls against the kernel's own (issue 28): `tests/progs/execfuzz.c` makes a seeded
//! random sequence of transfers (read, readv, pread64, write, writev, pwrite64, recvfrom,
//! recvmsg, sendto, sendmsg, lseek) with random lengths, offsets (-1, -5, past the end...) and
//! flags (MSG_PEEK, MSG_TRUNC, MSG_WAITALL, MSG_DONTWAIT...) on a file, a file opened
//! O_APPEND, pipes, TCP, UDP and AF_UNIX pairs, and prints every result, a hash of every buffer
//! filled (bytes the kernel did not write show), and the files' contents. Run natively and
//! under interpose with the transfers traced (so executed where interpose may), with and
//! without exit events and with the descriptor cache, the outputs must be the same, byte for
//! byte.

mod common;

use std::process::{Command, Stdio};

use common::*;

const SEEDS: u64 = 8;
const CALLS: &str = "400";
const TRANSFERS: &str = "trace=read,readv,pread64,write,writev,pwrite64,recvfrom,recvmsg,sendto,sendmsg,lseek";

#[test]
fn random_transfers_give_the_kernels_results_bytes_and_files() {
    let prog = prog("execfuzz");
    let configs: [&[&str]; 3] =
        [&["-e", TRANSFERS], &["--exits=off", "-e", TRANSFERS], &["--fd-cache", "-e", TRANSFERS]];
    for seed in 1..=SEEDS {
        let dir = scratch(&format!("execfuzz-{seed}"));
        let nat =
            run_bounded(Command::new(&prog).args([&seed.to_string(), CALLS]).arg(&dir).stdin(Stdio::null()), LIMIT);
        assert!(nat.status.success(), "native seed {seed}: {}", nat.stderr);
        for cfg in configs {
            let o = run_bounded(
                interpose()
                    .args(["run", "-qq", "-o", "/dev/null"])
                    .args(cfg)
                    .arg("--")
                    .arg(&prog)
                    .args([&seed.to_string(), CALLS])
                    .arg(&dir)
                    .stdin(Stdio::null()),
                LIMIT,
            );
            assert!(o.status.success(), "seed {seed} {cfg:?}: {}", o.stderr);
            let (a, b) = (nat.stdout_str(), o.stdout_str());
            if a != b {
                let first = a.lines().zip(b.lines()).find(|(x, y)| x != y);
                panic!(
                    "seed {seed}, interpose run {}: first difference (native, then under interpose):\n{:?}",
                    cfg.join(" "),
                    first.map_or(("(length)", "(length)"), |(x, y)| (x, y))
                );
            }
        }
    }
}
