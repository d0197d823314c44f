//! The network gate: the check WASI makes on every socket address, against
//! the confinement of the modules running at the time. A refused socket
//! only sees "permission denied"; the gate records why, for the form's reason.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use wasmtime_wasi::sockets::SocketAddrUse;

use super::confinement::Confinement;

/// The current confinement, shared with the WASI context's address check,
/// and a record of what it refused.
#[derive(Debug, Clone, Default)]
pub struct NetworkGate {
    current: Arc<Mutex<Confinement>>,
    denials: Arc<Mutex<Vec<String>>>,
    /// Print each refusal to stderr as it happens (a bundle's service, whose
    /// output is not collected per form).
    echo: bool,
}

impl NetworkGate {
    pub fn echoing(mut self) -> Self {
        self.echo = true;
        self
    }

    /// The modules bounding sockets from now on.
    pub fn set(&self, confinement: Confinement) {
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = confinement;
    }

    fn check(&self, addr: SocketAddr, used: SocketAddrUse) -> bool {
        let current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        match current.socket(addr, used) {
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
                let message = denied.message(&format!("{what} {addr}"));
                if self.echo {
                    eprintln!("{message}");
                } else {
                    self.denials
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(message);
                }
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
}
