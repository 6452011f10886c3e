//! Policies back to text: a policy file (TOML) and `-e` expressions that parse to the same
//! policy. `interpose check` shows rules this way, and the fuzz targets check that parse ->
//! print -> parse is stable.

use toml::Value;
use toml::map::Map;

use super::Policy;
use super::inject::FdScope;
use crate::decode::xlat;

fn errno(e: i32) -> Value {
    match xlat::errno_name(e) {
        Some(n) => Value::String(n.into()),
        None => Value::Integer(i64::from(e)),
    }
}

fn names(set: &super::SyscallSet) -> Value {
    Value::Array(set.names().map(|n| Value::String(n.into())).collect())
}

/// The policy as a policy file.
pub fn to_toml(p: &Policy) -> String {
    let mut root = Map::new();
    let mut trace = Map::new();
    trace.insert("syscalls".into(), names(&p.trace));
    if let Some(e) = p.execute {
        trace.insert("execute".into(), Value::Boolean(e));
    }
    root.insert("trace".into(), Value::Table(trace));
    let mut inject = Vec::new();
    for r in &p.inject {
        let mut t = Map::new();
        t.insert("syscalls".into(), names(&r.syscalls));
        if let Some(e) = r.error {
            t.insert("error".into(), errno(e));
        }
        if let Some(v) = r.retval {
            t.insert("retval".into(), Value::Integer(v));
        }
        if let Some(s) = r.signal {
            t.insert("signal".into(), Value::Integer(i64::from(s)));
        }
        if let Some(d) = r.delay_enter {
            t.insert("delay_enter".into(), Value::String(format!("{}ns", d.as_nanos())));
        }
        if let Some(d) = r.delay_exit {
            t.insert("delay_exit".into(), Value::String(format!("{}ns", d.as_nanos())));
        }
        if r.when != super::inject::When::default() {
            t.insert("when".into(), Value::String(r.when.to_string()));
        }
        if let Some(v) = r.probability {
            t.insert("probability".into(), Value::Float(v));
        }
        if let Some(v) = r.seed {
            // TOML integers are signed 64-bit; larger seeds do not fit a policy file.
            t.insert("seed".into(), Value::Integer(v as i64));
        }
        if let Some(v) = r.max {
            t.insert("max".into(), Value::Integer(v as i64));
        }
        if let Some(v) = r.short {
            t.insert("short".into(), Value::Integer(v as i64));
        }
        if let Some(v) = r.rate {
            t.insert("rate".into(), Value::String(format!("{v}/s")));
        }
        if let Some(d) = r.after {
            t.insert("after".into(), Value::String(super::inject::time(d)));
        }
        if let Some(d) = r.active_for {
            t.insert("for".into(), Value::String(super::inject::time(d)));
        }
        match r.scope.fd {
            Some(FdScope::Number(n)) => {
                t.insert("fd".into(), Value::Integer(i64::from(n)));
            }
            Some(k) => {
                let k = match k {
                    FdScope::Socket => "socket",
                    FdScope::Pipe => "pipe",
                    FdScope::File => "file",
                    FdScope::Tty => "tty",
                    FdScope::Number(_) => unreachable!("handled above"),
                };
                t.insert("fd".into(), Value::String(k.into()));
            }
            None => {}
        }
        if let Some(d) = &r.scope.dest {
            t.insert("dest".into(), Value::String(d.to_string()));
        }
        if let Some(s) = &r.scope.path {
            t.insert("path".into(), Value::String(s.clone()));
        }
        if let Some(s) = &r.scope.comm {
            t.insert("comm".into(), Value::String(s.clone()));
        }
        inject.push(Value::Table(t));
    }
    if !inject.is_empty() {
        root.insert("inject".into(), Value::Array(inject));
    }
    let deny: Vec<Value> = p
        .deny
        .iter()
        .map(|r| {
            let mut t = Map::new();
            t.insert("syscalls".into(), names(&r.syscalls));
            t.insert("error".into(), errno(r.error));
            t.insert("except".into(), Value::Array(r.except.iter().map(|e| Value::String(e.to_string())).collect()));
            Value::Table(t)
        })
        .collect();
    if !deny.is_empty() {
        root.insert("deny".into(), Value::Array(deny));
    }
    if p.network != super::deny::NetworkOptions::default() {
        let mut t = Map::new();
        t.insert("allow_raw_sockets".into(), Value::Boolean(p.network.allow_raw_sockets));
        t.insert("allow_io_uring".into(), Value::Boolean(p.network.allow_io_uring));
        t.insert("allow_bpf".into(), Value::Boolean(p.network.allow_bpf));
        root.insert("network".into(), Value::Table(t));
    }
    toml::to_string(&Value::Table(root)).unwrap_or_default()
}

/// What a round trip must preserve: everything but where rules were written.
pub fn same(a: &Policy, b: &Policy) -> bool {
    let strip = |p: &Policy| {
        let mut p = p.clone();
        p.inject.iter_mut().for_each(|r| r.origin.clear());
        p.deny.iter_mut().for_each(|r| r.origin.clear());
        p
    };
    strip(a) == strip(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_round_trip() {
        for text in [
            "[trace]\nsyscalls = [\"%net\", \"!sendmsg\", \"read\"]\nexecute = false\n",
            "[[inject]]\nsyscalls = [\"read\"]\nerror = \"EAGAIN\"\nwhen = \"3..100+2\"\nprobability = 0.1\nseed = 42\nfd = \"socket\"\n",
            "[[inject]]\nsyscalls = [\"connect\"]\nretval = -5\nsignal = \"USR1\"\ndelay_enter = 8e5\ndelay_exit = \"1.6s\"\ndest = \"[::1]:443\"\nmax = 3\ncomm = \"w:1\"\npath = \"/a:b\"\n",
            "[[inject]]\nsyscalls = [\"read\", \"recvfrom\"]\nshort = 7\nrate = \"1.5k/s\"\nafter = \"1s\"\nfor = \"250ms\"\nprobability = 0.5\nseed = 3\n",
            "[[inject]]\nsyscalls = [\"connect\"]\nerror = \"ECONNREFUSED\"\nafter = \"5s\"\nfor = \"10s\"\ndest = \"127.0.0.1:6379\"\n",
            "[[deny]]\nsyscalls = [\"connect\", \"sendto\"]\nexcept = [\"127.0.0.1:8080\", \"[::1]/128\", \"unix:/run/a.sock\", \"*:443\"]\n",
        ] {
            let a = crate::policy::parse_file_text("a.toml", text).unwrap();
            let printed = to_toml(&a);
            let b = crate::policy::parse_file_text("b.toml", &printed).unwrap_or_else(|e| panic!("{e}\n{printed}"));
            assert!(same(&a, &b), "{text}\n->\n{printed}");
        }
    }

    #[test]
    fn expressions_round_trip() {
        for e in [
            "inject=chdir:error=ENOENT:when=2+3",
            "fault=read,write:when=1..9+2:probability=0.25:seed=7",
            "inject=connect:error=ECONNREFUSED:dest=127.0.0.1:8080:max=2",
            "inject=openat:delay_enter=800ms:path=/tmp/a:b:comm=worker",
            "inject=none:signal=9",
            "inject=read,write:short=1:fd=pipe",
            "inject=recvfrom:rate=100k/s:comm=slow:after=1.5s",
            "inject=connect:error=ECONNREFUSED:dest=127.0.0.1:6379:after=5s:for=10s",
            "fault=connect:for=100ms:when=2+",
        ] {
            let a = crate::policy::build(None, &[e.to_string()]).unwrap();
            let printed = format!("inject={}", a.inject[0].to_expr());
            let b = crate::policy::build(None, std::slice::from_ref(&printed))
                .unwrap_or_else(|err| panic!("{err}: {printed}"));
            assert!(same(&a, &b), "{e} -> {printed}");
        }
    }
}
