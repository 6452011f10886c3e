//! interpose: a seccomp user-notification syscall tracer and fault injector.
//!
//! Data flows one way: policy -> filter -> launch -> notifications (supervisor) -> events ->
//! output. Each stage owns its types. All `unsafe` code lives in [`sys`].

#![deny(unsafe_code)]

pub mod cli;
pub mod commands;
pub mod decode;
pub mod error;
pub mod event;
pub mod filter;
pub mod kernel;
pub mod launch;
pub mod output;
pub mod policy;
pub mod run;
pub mod stack;
pub mod stats;
pub mod supervisor;
#[allow(unsafe_code)]
pub mod sys;
pub mod tree;
