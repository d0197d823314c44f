//! The network gate: the check WASI makes on every socket address and name
//! lookup, against the confinement of the modules running at the time, and
//! nothing at all in check mode. A refused socket only sees "permission
//! denied"; the gate records why, for the form's reason.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use wasmtime_wasi::sockets::SocketAddrUse;

use super::confinement::{Confinement, Denied, Refusal};

/// The current confinement, shared with the WASI context's address check,
/// and a record of what it refused.
#[derive(Debug, Clone, Default)]
pub struct NetworkGate {
    current: Arc<Mutex<Confinement>>,
    denials: Arc<Mutex<Vec<String>>>,
    /// Print each refusal to stderr as it happens (a bundle's service, whose
    /// output is not collected per form).
    echo: bool,
    /// Check mode: every address is refused, as every lookup.
    checking: bool,
}

impl NetworkGate {
    pub fn echoing(mut self) -> Self {
        self.echo = true;
        self
    }

    /// Check mode: refuse every socket and lookup.
    pub fn checking(mut self, checking: bool) -> Self {
        self.checking = checking;
        self
    }

    /// The modules bounding sockets from now on.
    pub fn set(&self, confinement: Confinement) {
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = confinement;
    }

    fn check(&self, addr: SocketAddr, used: SocketAddrUse) -> bool {
        let current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        // The wildcard bind a connect makes first reaches nothing by itself.
        let implicit_bind = matches!(used, SocketAddrUse::TcpBind | SocketAddrUse::UdpBind)
            && addr.ip().is_unspecified()
            && addr.port() == 0;
        let granted = current.socket(addr, used);
        let decided = if implicit_bind {
            granted
        } else {
            self.decide(&current, granted)
        };
        match decided {
            Ok(()) => true,
            Err(denied) => {
                let what = match used {
                    SocketAddrUse::TcpBind => "bind a TCP socket to",
                    SocketAddrUse::TcpListen => "listen on",
                    SocketAddrUse::TcpAccept => "accept a connection from",
                    SocketAddrUse::TcpConnect => "connect to",
                    SocketAddrUse::UdpBind => "bind a UDP socket to",
                    SocketAddrUse::UdpSend => "send a datagram to",
                    SocketAddrUse::UdpReceive => "receive a datagram from",
                };
                self.record(denied.message(&format!("{what} {addr}")));
                false
            }
        }
    }

    /// Check mode refuses what the grants would allow, naming the module.
    fn decide(&self, current: &Confinement, granted: Result<(), Denied>) -> Result<(), Denied> {
        granted?;
        match current.modules.first() {
            Some((module, _)) if self.checking => Err(Denied {
                module: module.clone(),
                why: Refusal::CheckMode,
            }),
            _ => Ok(()),
        }
    }

    fn record(&self, message: String) {
        if self.echo {
            eprintln!("{message}");
        } else {
            self.denials
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(message);
        }
    }

    /// May the modules running now look `name` up? Recorded when not.
    pub fn lookup(&self, name: &str) -> bool {
        let current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        match self.decide(&current, current.lookup()) {
            Ok(()) => true,
            Err(denied) => {
                self.record(denied.message(&format!("look up {name}")));
                false
            }
        }
    }

    /// What was refused since the last call.
    pub fn take_denials(&self) -> Vec<String> {
        std::mem::take(&mut *self.denials.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Set up a WASI context builder to ask this gate. Sockets are allowed
    /// at the WASI level and each address is checked here, against the
    /// modules running at the time; name lookups only when `lookups` (some
    /// module may use any address).
    pub fn apply_to(&self, builder: &mut wasmtime_wasi::WasiCtxBuilder, lookups: bool) {
        builder
            .allow_ip_name_lookup(lookups)
            .allow_tcp(true)
            .allow_udp(true);
        let gate = self.clone();
        builder.socket_addr_check(move |addr, used| {
            Box::pin(std::future::ready(gate.check(addr, used)))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::grants::{ModuleGrants, grants};
    use super::*;

    #[test]
    fn the_gate_records_denials_naming_module_and_grant() {
        let gate = NetworkGate::default();
        gate.set(Confinement {
            modules: vec![("web".into(), ModuleGrants::default())],
            ..Confinement::default()
        });
        let addr: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        assert!(!gate.check(addr, SocketAddrUse::TcpBind));
        let denials = gate.take_denials();
        assert_eq!(denials.len(), 1);
        assert!(
            denials[0].contains("module web") && denials[0].contains("net:127.0.0.1:8080"),
            "{}",
            denials[0]
        );
        assert!(gate.take_denials().is_empty());
        gate.set(Confinement {
            modules: vec![("web".into(), grants(&["net:127.0.0.1:8080"]))],
            ..Confinement::default()
        });
        assert!(gate.check(addr, SocketAddrUse::TcpBind));
        assert!(gate.take_denials().is_empty());
    }

    #[test]
    fn in_check_mode_only_the_implicit_wildcard_bind_passes() {
        let gate = NetworkGate::default().checking(true);
        gate.set(Confinement {
            modules: vec![("web".into(), grants(&["net"]))],
            ..Confinement::default()
        });
        let addr = |s: &str| s.parse::<SocketAddr>().unwrap();
        // What a connect binds first, reaching nothing by itself.
        assert!(gate.check(addr("0.0.0.0:0"), SocketAddrUse::TcpBind));
        assert!(gate.check(addr("[::]:0"), SocketAddrUse::UdpBind));
        // Anything more is a socket that reaches out or waits for others.
        for (at, used) in [
            ("0.0.0.0:8080", SocketAddrUse::TcpBind),
            ("127.0.0.1:0", SocketAddrUse::TcpBind),
            ("0.0.0.0:0", SocketAddrUse::TcpConnect),
            ("0.0.0.0:0", SocketAddrUse::UdpSend),
        ] {
            assert!(!gate.check(addr(at), used), "{at} {used:?}");
        }
        assert_eq!(gate.take_denials().len(), 4);
    }

    #[test]
    fn an_echoing_gate_prints_its_refusals_instead_of_keeping_them() {
        let gate = NetworkGate::default().echoing();
        gate.set(Confinement {
            modules: vec![("service".into(), ModuleGrants::default())],
            ..Confinement::default()
        });
        let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
        assert!(!gate.check(addr, SocketAddrUse::TcpConnect));
        assert!(!gate.lookup("example.org"));
        assert!(gate.take_denials().is_empty());
    }

    #[test]
    fn lookups_need_net_from_every_module_and_check_mode_reaches_nobody() {
        let gate = NetworkGate::default();
        let confined = |modules: Vec<(String, ModuleGrants)>| Confinement {
            modules,
            ..Confinement::default()
        };
        gate.set(confined(vec![("web".into(), grants(&["net"]))]));
        assert!(gate.lookup("example.org"));
        gate.set(confined(vec![
            ("quiet".into(), grants(&["net:127.0.0.1:80"])),
            ("web".into(), grants(&["net"])),
        ]));
        assert!(!gate.lookup("example.org"));
        assert_eq!(
            gate.take_denials(),
            ["denied: module quiet may not look up example.org: it has no grant net"]
        );
        let checking = NetworkGate::default().checking(true);
        checking.set(confined(vec![("web".into(), grants(&["net"]))]));
        let addr: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        assert!(!checking.check(addr, SocketAddrUse::TcpConnect));
        assert!(!checking.lookup("example.org"));
        assert_eq!(
            checking.take_denials(),
            [
                "denied: module web may not connect to 127.0.0.1:8080: check mode reaches no other host",
                "denied: module web may not look up example.org: check mode reaches no other host"
            ]
        );
    }
}
