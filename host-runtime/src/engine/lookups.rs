//! Name lookups, checked per module: WASI decides once per store whether
//! lookups are allowed at all (when any module may use any address); this
//! takes the place of its `resolve-addresses` and asks the host's network
//! gate first, so a module without `net` resolves nothing even while
//! another module of the deploy has it, and check mode resolves nothing.

use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::p2::SocketError;
use wasmtime_wasi::p2::bindings::sockets::ip_name_lookup::{Host, ResolveAddressStream};
use wasmtime_wasi::p2::bindings::sockets::network::{ErrorCode, Network};
use wasmtime_wasi::sockets::WasiSocketsView;

use super::store::StoreData;

/// The interface whose function this replaces, as WASI defines it.
const IP_NAME_LOOKUP: &str = "wasi:sockets/ip-name-lookup@0.2.12";

type Lookup = Result<Resource<ResolveAddressStream>, ErrorCode>;

pub(super) fn check_name_lookups(linker: &mut Linker<StoreData>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    linker.instance(IP_NAME_LOOKUP)?.func_wrap(
        "resolve-addresses",
        |mut store: StoreContextMut<'_, StoreData>,
         (network, name): (Resource<Network>, String)|
         -> wasmtime::Result<(Lookup,)> {
            if !store.data().host().may_look_up(&name) {
                return Ok((Err(ErrorCode::AccessDenied),));
            }
            let result: Result<_, SocketError> =
                Host::resolve_addresses(&mut store.data_mut().sockets(), network, name);
            match result {
                Ok(stream) => Ok((Ok(stream),)),
                Err(error) => match error.downcast() {
                    Ok(code) => Ok((Err(code),)),
                    Err(trap) => Err(trap),
                },
            }
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}
