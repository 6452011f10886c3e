//! strace's syscall classes (`%file`, `%net`, ...), as bit sets.

/// A set of classes a syscall belongs to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Class(pub u32);

/// The bits, short names for the table.
pub mod bits {
    pub const D: u32 = 1 << 0; // %desc: takes or returns a file descriptor
    pub const F: u32 = 1 << 1; // %file: takes a file name
    pub const N: u32 = 1 << 2; // %network
    pub const P: u32 = 1 << 3; // %process
    pub const S: u32 = 1 << 4; // %signal
    pub const I: u32 = 1 << 5; // %ipc
    pub const M: u32 = 1 << 6; // %memory
    pub const C: u32 = 1 << 7; // %creds
    pub const K: u32 = 1 << 8; // %clock
    pub const U: u32 = 1 << 9; // %pure: always succeeds, no arguments
    pub const ST: u32 = 1 << 10; // %stat
    pub const LST: u32 = 1 << 11; // %lstat
    pub const FST: u32 = 1 << 12; // %fstat
    pub const STA: u32 = 1 << 13; // %%stat: every stat variant
    pub const SF: u32 = 1 << 14; // %statfs
    pub const FSF: u32 = 1 << 15; // %fstatfs
    pub const SFA: u32 = 1 << 16; // %%statfs: every statfs variant
}

/// Class names as written after `%` (strace's spellings, with its aliases).
pub const NAMES: &[(&str, u32)] = &[
    ("desc", bits::D),
    ("file", bits::F),
    ("network", bits::N),
    ("net", bits::N),
    ("process", bits::P),
    ("signal", bits::S),
    ("ipc", bits::I),
    ("memory", bits::M),
    ("creds", bits::C),
    ("clock", bits::K),
    ("pure", bits::U),
    ("stat", bits::ST),
    ("lstat", bits::LST),
    ("fstat", bits::FST),
    ("%stat", bits::STA),
    ("statfs", bits::SF),
    ("fstatfs", bits::FSF),
    ("%statfs", bits::SFA),
];

impl Class {
    pub fn contains(self, bit: u32) -> bool {
        self.0 & bit != 0
    }

    /// The class bit named `name` (without the leading `%`).
    pub fn bit_by_name(name: &str) -> Option<u32> {
        NAMES.iter().find(|(n, _)| *n == name).map(|&(_, b)| b)
    }

    /// Names of the classes in this set, for `interpose syscalls`.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        NAMES.iter().filter(move |(n, b)| self.0 & b != 0 && *n != "net").map(|(n, _)| *n)
    }
}
