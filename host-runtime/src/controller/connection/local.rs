//! The `local` hop: the runtime as a child process of the controller, spoken to
//! over pipes with the same protocol it will be spoken to over SSH.

use std::path::Path;
use std::process::Command;

use super::child::{Spawned, spawn};
use super::{ConnectionError, RuntimeChannel};

pub fn start_runtime(exe: &Path) -> Result<RuntimeChannel, ConnectionError> {
    let mut command = Command::new(exe);
    command.arg("runtime");
    let Spawned {
        reader,
        writer,
        deadline,
        process,
    } = spawn(command).map_err(|source| ConnectionError::Spawn {
        exe: exe.display().to_string(),
        source,
    })?;
    Ok(RuntimeChannel {
        reader: Box::new(reader),
        writer: Box::new(writer),
        deadline,
        process: Box::new(process),
        runtime_bytes_sent: 0,
    })
}
