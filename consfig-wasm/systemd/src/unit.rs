//! Unit files: `systemd:unit`.

use consfig_guest::prelude::*;

use crate::manager::Manager;
use crate::names::unit_name;

pub const UNIT_DIR: &str = "/etc/systemd/system";

/// The unit file /etc/systemd/system/NAME holds exactly CONTENT (mode 0644),
/// and systemd has read it: `systemctl daemon-reload` runs after a change,
/// where systemd runs.
///
/// NAME is a unit name (`nginx.service`, `backup.timer`, `getty@.service`;
/// one with no unit type's suffix gets `.service`); paths and names
/// starting with `-` or `.` are refused. Unchanged when the file already
/// holds CONTENT with mode 0644. In a chroot or a tree systemd did not
/// boot, the file is written and nothing is reloaded (the form's output
/// says so). Check mode writes to its overlay and predicts exactly; the
/// reload is reported skipped. User units: write them with
/// `file:has-content` in the user's ~/.config/systemd/user, then
/// `systemd:daemon-reloaded {user}`.
#[property]
pub fn unit(name: String, content: String) -> Result<Change> {
    let name = unit_name(&name)?;
    let path = format!("{UNIT_DIR}/{name}");
    let mode = Mode::new(0o644)?;
    match fs::stat(&path)? {
        Some(stat) if !stat.is_file() => {
            bail!("{path} is a {}, not a file: not replacing it", stat.kind)
        }
        Some(stat) if stat.mode == mode && fs::read(&path)? == content.as_bytes() => {
            return Ok(Change::Unchanged);
        }
        Some(_) => {}
        None => {
            if fs::stat(UNIT_DIR)?.is_none() {
                fs::mkdir(UNIT_DIR, None)?;
            }
        }
    }
    fs::write(&path, &content, Some(mode))?;
    info!("wrote {path}");
    let manager = Manager::of(None)?;
    if manager.runs_or_log("not reloading systemd")? {
        manager.daemon_reload()?;
    }
    Ok(Change::Changed)
}
