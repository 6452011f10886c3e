//! The filter's BPF program, generated directly: per ABI, a binary search over the trapped
//! syscall numbers.
//!
//! libseccomp took about 35 ms to compile `-e trace=all` (some 400 rules, three ABIs, its
//! binary-tree layout): seven times the rest of interpose's start-up. The program needed here
//! is simple, so it is written out in well under a millisecond: the arch check, then for each
//! ABI the trapped numbers as ranges, found with a balanced tree of `jge` (about log2(ranges)
//! comparisons per call, like libseccomp's tree), each leaf a `ret`. The one rule with an
//! argument are i386's `socketcall` and `ipc`, trapped for the sub-calls of the trapped socket
//! and System V IPC calls (their first argument). libseccomp still names the syscalls
//! of the other ABIs, and a unit test runs both programs on every number of every ABI and
//! checks that they decide alike.
//!
//! Every decision depends on the arch and the number alone (socketcall excepted), so the
//! kernel's per-syscall action cache still lets untraced calls skip the program.

use libc::sock_filter;

use crate::decode::{ARCH_I386, ARCH_X86_64, X32_SYSCALL_BIT};

const LD_W_ABS: u16 = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
const JEQ_K: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
const JGE_K: u16 = (libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K) as u16;
const JA: u16 = (libc::BPF_JMP | libc::BPF_JA) as u16;
const RET_K: u16 = (libc::BPF_RET | libc::BPF_K) as u16;
const AND_K: u16 = (libc::BPF_ALU | libc::BPF_AND | libc::BPF_K) as u16;

/// Offsets in `struct seccomp_data`.
const NR: u32 = 0;
const ARCH: u32 = 4;
/// Argument 0's low 32 bits (little-endian).
const ARG0_LO: u32 = 16;

/// The i386 multiplexers: `socketcall` and `ipc`.
pub const I386_SOCKETCALL: u32 = 102;
pub const I386_IPC: u32 = 117;

/// What the filter traps, per ABI (numbers as the kernel reports them: x32's with
/// [`X32_SYSCALL_BIT`]); `multiplexed`: i386 calls trapped for some values of their first
/// argument only (`socketcall`'s `SYS_CONNECT`..., `ipc`'s `SEMGET`...).
#[derive(Debug, Default)]
pub struct Trapped {
    pub x86_64: Vec<u32>,
    pub x32: Vec<u32>,
    pub i386: Vec<u32>,
    pub multiplexed: Vec<(u32, Vec<u32>)>,
}

/// The program: `action` for the trapped calls, `SECCOMP_RET_ALLOW` for the others, and for
/// an architecture other than the three (which an x86_64 kernel does not have) libseccomp's
/// default, killing the thread.
pub fn program(t: &Trapped, action: u32) -> Vec<sock_filter> {
    let mut e = Emitter::default();
    let (allow, notify) = (Leaf::Ret(libc::SECCOMP_RET_ALLOW), Leaf::Ret(action));
    // Emitted last to first: jumps only go forward, so a jump's targets exist before it.
    let kill = e.ret(libc::SECCOMP_RET_KILL_THREAD);
    let i386 = {
        let mut numbers = t.i386.clone();
        let mut special = Vec::new();
        for (nr, subs) in t.multiplexed.iter().filter(|(_, subs)| !subs.is_empty()) {
            // Any of the sub-calls; the rest are allowed. An i386 argument is 32 bits (the
            // kernel zero-extends it), so the low half is the whole of it, as libseccomp has it.
            let mut subs: Vec<u32> = subs.clone();
            subs.sort_unstable();
            subs.dedup();
            let mut next = e.ret(libc::SECCOMP_RET_ALLOW);
            for &s in subs.iter().rev() {
                let yes = e.ret(action);
                next = e.jump(JEQ_K, s, yes, next);
            }
            if *nr == I386_IPC {
                // ipc(2) runs `call & 0xffff` (the high half is a version): compare that, or a
                // version bit would slip a trapped sub-call past the filter (libseccomp
                // compares the whole argument).
                next = e.push(AND_K, 0, 0, 0xffff);
            }
            numbers.push(*nr);
            special.push((*nr, Leaf::At(e.load_then(ARG0_LO, next))));
        }
        let runs = runs(&numbers, notify, &special);
        let tree = e.tree(&runs, allow, 0);
        e.load_then(NR, tree)
    };
    let x86_64 = {
        // x32 calls arrive with the x86_64 arch and the x32 bit set in the number.
        let x32 = e.tree(&runs(&t.x32, notify, &[]), allow, X32_SYSCALL_BIT as u32);
        let native = e.tree(&runs(&t.x86_64, notify, &[]), allow, 0);
        let split = e.jump(JGE_K, X32_SYSCALL_BIT as u32, x32, native);
        e.load_then(NR, split)
    };
    let not_64 = e.jump(JEQ_K, ARCH_I386, i386, kill);
    let arch = e.jump(JEQ_K, ARCH_X86_64, x86_64, not_64);
    e.load_then(ARCH, arch);
    e.finish()
}

/// Where a search ends: a `ret` of this action (each leaf its own, placed next to its jump,
/// so that no jump to a leaf is out of reach), or code already emitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Leaf {
    Ret(u32),
    At(usize),
}

/// Sorted, disjoint `(first, last, leaf)` runs of numbers: consecutive trapped numbers share a
/// run to `notify`; `special` numbers get a leaf of their own instead.
fn runs(numbers: &[u32], notify: Leaf, special: &[(u32, Leaf)]) -> Vec<(u32, u32, Leaf)> {
    let mut ns: Vec<u32> = numbers.to_vec();
    ns.sort_unstable();
    ns.dedup();
    let mut runs: Vec<(u32, u32, Leaf)> = Vec::new();
    for n in ns {
        let leaf = special.iter().find(|(s, _)| *s == n).map_or(notify, |&(_, l)| l);
        match runs.last_mut() {
            Some((_, last, l)) if *l == leaf && leaf == notify && last.checked_add(1) == Some(n) => *last = n,
            _ => runs.push((n, n, leaf)),
        }
    }
    runs
}

/// Builds the program from its end: `rev` holds the instructions last first, and a label is an
/// instruction's index in `rev`.
#[derive(Default)]
struct Emitter {
    rev: Vec<sock_filter>,
}

impl Emitter {
    fn push(&mut self, code: u16, jt: u8, jf: u8, k: u32) -> usize {
        self.rev.push(sock_filter { code, jt, jf, k });
        self.rev.len() - 1
    }

    /// How many instructions a jump placed next would skip to reach `label`.
    fn distance(&self, label: usize) -> usize {
        self.rev.len() - label - 1
    }

    fn ret(&mut self, action: u32) -> usize {
        self.push(RET_K, 0, 0, action)
    }

    /// Loads a word of `seccomp_data`, falling through to what was emitted just before.
    fn load(&mut self, offset: u32) -> usize {
        self.push(LD_W_ABS, 0, 0, offset)
    }

    /// Loads a word, then goes on at `next`.
    fn load_then(&mut self, offset: u32, next: usize) -> usize {
        if next + 1 != self.rev.len() {
            self.always(next);
        }
        self.load(offset)
    }

    fn always(&mut self, label: usize) -> usize {
        let d = self.distance(label) as u32;
        self.push(JA, 0, 0, d)
    }

    /// `if A <op> k goto t else goto f`; a target out of a conditional jump's reach (255
    /// instructions) goes through an unconditional jump placed right after it.
    fn jump(&mut self, code: u16, k: u32, mut t: usize, mut f: usize) -> usize {
        loop {
            if self.distance(f) > 255 {
                f = self.always(f);
            } else if self.distance(t) > 255 {
                t = self.always(t);
            } else {
                break;
            }
        }
        let (jt, jf) = (self.distance(t) as u8, self.distance(f) as u8);
        self.push(code, jt, jf, k)
    }

    /// A balanced search over `runs` (sorted, disjoint); numbers in no run go to `other`. The
    /// number is known to be at least `min` (no comparison is made that could only be true).
    fn tree(&mut self, runs: &[(u32, u32, Leaf)], other: Leaf, min: u32) -> usize {
        // Where the answer changes: (first number, leaf from there on).
        let mut steps: Vec<(u32, Leaf)> = Vec::new();
        for (i, &(first, last, leaf)) in runs.iter().enumerate() {
            steps.push((first, leaf));
            let next_first = runs.get(i + 1).map(|r| r.0);
            if let Some(after) = last.checked_add(1)
                && next_first != Some(after)
            {
                steps.push((after, other));
            }
        }
        let known = steps.iter().take_while(|(at, _)| *at <= min).count();
        let below = steps[..known].last().map_or(other, |&(_, leaf)| leaf);
        self.search(&steps[known..], below)
    }

    fn search(&mut self, steps: &[(u32, Leaf)], below: Leaf) -> usize {
        if steps.is_empty() {
            return match below {
                Leaf::Ret(action) => self.ret(action),
                Leaf::At(label) => label,
            };
        }
        let m = steps.len() / 2;
        let (at, leaf) = steps[m];
        let high = self.search(&steps[m + 1..], leaf);
        let low = self.search(&steps[..m], below);
        self.jump(JGE_K, at, high, low)
    }

    fn finish(mut self) -> Vec<sock_filter> {
        self.rev.reverse();
        self.rev
    }
}

/// The program as text, one instruction a line (`interpose check --bpf`): jumps name their
/// targets by index, actions by name.
pub fn disassemble(prog: &[sock_filter]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    for (i, ins) in prog.iter().enumerate() {
        let to = |off: u32| i + 1 + off as usize;
        let _ = match ins.code {
            LD_W_ABS => {
                let what = match ins.k {
                    NR => " (syscall number)",
                    ARCH => " (arch)",
                    ARG0_LO => " (argument 0, low half)",
                    _ => "",
                };
                writeln!(out, "{i:4}: ld [{}]{what}", ins.k)
            }
            JEQ_K | JGE_K => {
                let op = if ins.code == JEQ_K { "jeq" } else { "jge" };
                writeln!(out, "{i:4}: {op} {:#x}, {}, {}", ins.k, to(ins.jt.into()), to(ins.jf.into()))
            }
            JA => writeln!(out, "{i:4}: ja {}", to(ins.k)),
            AND_K => writeln!(out, "{i:4}: and {:#x}", ins.k),
            RET_K => {
                let action = match ins.k {
                    libc::SECCOMP_RET_ALLOW => "ALLOW",
                    libc::SECCOMP_RET_USER_NOTIF => "USER_NOTIF",
                    libc::SECCOMP_RET_KILL_THREAD => "KILL_THREAD",
                    _ => "?",
                };
                writeln!(out, "{i:4}: ret {action}")
            }
            code => writeln!(out, "{i:4}: {code:#06x} {} {} {:#x}", ins.jt, ins.jf, ins.k),
        };
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Runs a classic-BPF seccomp program (the instructions libseccomp and [`program`] emit) on
    /// `seccomp_data` made of `arch`, `nr` and `arg0`.
    pub(crate) fn run(prog: &[sock_filter], arch: u32, nr: u32, arg0: u64) -> u32 {
        let word = |off: u32| match off {
            0 => nr,
            4 => arch,
            16 => arg0 as u32,
            20 => (arg0 >> 32) as u32,
            8..=15 | 24..=63 => 0,
            _ => panic!("load at {off}"),
        };
        let (mut a, mut x, mut mem, mut pc) = (0u32, 0u32, [0u32; 16], 0usize);
        loop {
            let i = prog[pc];
            pc += 1;
            let class = u32::from(i.code) & 0x07;
            let op = u32::from(i.code) & 0xf0;
            let src = if u32::from(i.code) & 0x08 != 0 { x } else { i.k };
            match class {
                0x00 if u32::from(i.code) & 0xe0 == 0x20 => a = word(i.k),
                0x00 => a = i.k,
                0x01 if u32::from(i.code) & 0xe0 == 0x60 => x = mem[i.k as usize],
                0x01 => x = i.k,
                0x02 => mem[i.k as usize] = a,
                0x03 => mem[i.k as usize] = x,
                0x04 => {
                    a = match op {
                        0x00 => a.wrapping_add(src),
                        0x10 => a.wrapping_sub(src),
                        0x50 => a & src,
                        0x40 => a | src,
                        0xa0 => a ^ src,
                        other => panic!("alu op {other:#x}"),
                    }
                }
                0x05 => {
                    let skip = match op {
                        0x00 => {
                            pc += i.k as usize;
                            continue;
                        }
                        0x10 => a == src,
                        0x20 => a > src,
                        0x30 => a >= src,
                        0x40 => a & src != 0,
                        other => panic!("jump op {other:#x}"),
                    };
                    pc += usize::from(if skip { i.jt } else { i.jf });
                }
                0x06 => return if u32::from(i.code) & 0x18 == 0x10 { a } else { i.k },
                0x07 => {
                    if op == 0 {
                        x = a;
                    } else {
                        a = x;
                    }
                }
                _ => unreachable!(),
            }
        }
    }

    #[test]
    fn far_targets_are_reached_through_unconditional_jumps() {
        // 300 scattered numbers: the root's subtrees are longer than a conditional jump reaches.
        let t = Trapped { x86_64: (0..300).map(|i| i * 3).collect(), ..Default::default() };
        let prog = program(&t, libc::SECCOMP_RET_USER_NOTIF);
        assert!(prog.len() > 600, "{}", prog.len());
        for nr in 0..1000 {
            let want = if nr % 3 == 0 && nr < 900 { libc::SECCOMP_RET_USER_NOTIF } else { libc::SECCOMP_RET_ALLOW };
            assert_eq!(run(&prog, ARCH_X86_64, nr, 0), want, "nr {nr}");
        }
        assert_eq!(run(&prog, ARCH_X86_64, u32::MAX, 0), libc::SECCOMP_RET_ALLOW);
        assert_eq!(run(&prog, 0xc000_00b7, 0, 0), libc::SECCOMP_RET_KILL_THREAD, "aarch64");
    }

    #[test]
    fn socketcall_is_trapped_for_its_sub_calls_only() {
        let t = Trapped { i386: vec![362], multiplexed: vec![(I386_SOCKETCALL, vec![3, 11])], ..Default::default() };
        let prog = program(&t, libc::SECCOMP_RET_USER_NOTIF);
        let n = libc::SECCOMP_RET_USER_NOTIF;
        let a = libc::SECCOMP_RET_ALLOW;
        assert_eq!(run(&prog, ARCH_I386, I386_SOCKETCALL, 3), n);
        assert_eq!(run(&prog, ARCH_I386, I386_SOCKETCALL, 11), n);
        assert_eq!(run(&prog, ARCH_I386, I386_SOCKETCALL, 4), a);
        assert_eq!(run(&prog, ARCH_I386, I386_SOCKETCALL, 5), a);
        assert_eq!(run(&prog, ARCH_I386, 362, 0), n);
        assert_eq!(run(&prog, ARCH_I386, 361, 0), a);
        assert_eq!(run(&prog, ARCH_X86_64, I386_SOCKETCALL, 3), a);
    }

    #[test]
    fn ipc_is_trapped_whatever_its_version_bits() {
        let t = Trapped { multiplexed: vec![(I386_IPC, vec![21, 23])], ..Default::default() };
        let prog = program(&t, libc::SECCOMP_RET_USER_NOTIF);
        let n = libc::SECCOMP_RET_USER_NOTIF;
        for version in [0u64, 1, 2, 0xffff] {
            assert_eq!(run(&prog, ARCH_I386, I386_IPC, 21 | version << 16), n, "shmat, version {version}");
            assert_eq!(run(&prog, ARCH_I386, I386_IPC, 23 | version << 16), n, "shmget, version {version}");
            assert_eq!(run(&prog, ARCH_I386, I386_IPC, 22 | version << 16), libc::SECCOMP_RET_ALLOW);
        }
    }
}
