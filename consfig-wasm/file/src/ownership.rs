//! Who owns a file: the `owner` and `group` of a form (a name or a number),
//! resolved against the target's own accounts, and `file:has-ownership`.

use std::fmt;

use consfig_guest::host::fs::Stat;
use consfig_guest::prelude::*;
use consfig_guest::serde::de::{self, Deserializer, Visitor};
use consfig_guest::serde::{Deserialize, Serialize, Serializer};

/// A user or a group as a form names it: a name (`"www-data"`) or a number
/// (`33`, or `"33"`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NameOrId {
    Name(String),
    Id(u32),
}

impl NameOrId {
    fn from_text(text: &str) -> std::result::Result<NameOrId, String> {
        if let Ok(id) = text.parse() {
            return Ok(NameOrId::Id(id));
        }
        let fits = !text.is_empty()
            && !text.starts_with('-')
            && !text.contains(':')
            && !text.chars().any(|c| c.is_whitespace() || c.is_control());
        match fits {
            true => Ok(NameOrId::Name(text.to_owned())),
            false => Err(format!(
                "{text:?} is not a user or group: expected a name such as \"www-data\" or a number"
            )),
        }
    }
}

impl fmt::Display for NameOrId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameOrId::Name(name) => f.write_str(name),
            NameOrId::Id(id) => write!(f, "{id}"),
        }
    }
}

impl From<&str> for NameOrId {
    /// A name; digits are a number.
    fn from(text: &str) -> Self {
        text.parse()
            .map_or_else(|_| NameOrId::Name(text.to_owned()), NameOrId::Id)
    }
}

impl From<u32> for NameOrId {
    fn from(id: u32) -> Self {
        NameOrId::Id(id)
    }
}

impl Serialize for NameOrId {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            NameOrId::Name(name) => serializer.serialize_str(name),
            NameOrId::Id(id) => serializer.serialize_u32(*id),
        }
    }
}

impl<'de> Deserialize<'de> for NameOrId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct NameOrIdVisitor;

        impl Visitor<'_> for NameOrIdVisitor {
            type Value = NameOrId;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a user or group: a name such as \"www-data\", or a number")
            }

            fn visit_u64<E: de::Error>(self, id: u64) -> std::result::Result<NameOrId, E> {
                u32::try_from(id)
                    .map(NameOrId::Id)
                    .map_err(|_| E::custom(format!("{id} is too large for a user or group id")))
            }

            fn visit_str<E: de::Error>(self, text: &str) -> std::result::Result<NameOrId, E> {
                NameOrId::from_text(text).map_err(E::custom)
            }
        }

        deserializer.deserialize_any(NameOrIdVisitor)
    }
}

/// The owner a form asks for: a user of the target's `/etc/passwd` by name,
/// or any uid.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(crate = "consfig_guest::serde", transparent)]
pub struct User(pub NameOrId);

/// The group a form asks for: a group of the target's `/etc/group` by name,
/// or any gid.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(crate = "consfig_guest::serde", transparent)]
pub struct Group(pub NameOrId);

/// `From` a name (`&str`, digits being a number) or a number, for typed forms.
macro_rules! from_name_or_id {
    ($($account:ident),*) => {$(
        impl From<&str> for $account {
            fn from(name: &str) -> Self {
                $account(name.into())
            }
        }

        impl From<String> for $account {
            fn from(name: String) -> Self {
                $account(name.as_str().into())
            }
        }

        impl From<u32> for $account {
            fn from(id: u32) -> Self {
                $account(id.into())
            }
        }
    )*};
}

from_name_or_id!(User, Group);

impl User {
    /// The uid: a name is looked up on the target, and must be there.
    pub fn uid(&self) -> Result<u32> {
        match &self.0 {
            NameOrId::Id(uid) => Ok(*uid),
            NameOrId::Name(name) => match host::lookup_user(name)? {
                Some(user) => Ok(user.uid),
                None => bail!("there is no user {name} on this host (in its /etc/passwd)"),
            },
        }
    }
}

impl Group {
    /// The gid: a name is looked up on the target, and must be there.
    pub fn gid(&self) -> Result<u32> {
        match &self.0 {
            NameOrId::Id(gid) => Ok(*gid),
            NameOrId::Name(name) => match host::lookup_group(name)? {
                Some(group) => Ok(group.gid),
                None => bail!("there is no group {name} on this host (in its /etc/group)"),
            },
        }
    }
}

/// The owner and group a form asks for, as numbers; `None` leaves one as
/// it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ownership {
    pub uid: Option<u32>,
    pub gid: Option<u32>,
}

impl Ownership {
    /// Resolve the names on the target (before anything is changed, so that
    /// an unknown name changes nothing).
    pub fn of(owner: Option<&User>, group: Option<&Group>) -> Result<Ownership> {
        Ok(Ownership {
            uid: owner.map(User::uid).transpose()?,
            gid: group.map(Group::gid).transpose()?,
        })
    }

    /// Whether this asks for anything.
    pub fn is_given(&self) -> bool {
        self.uid.is_some() || self.gid.is_some()
    }

    /// Whether what `stat` found is owned otherwise.
    pub fn differs(&self, stat: &Stat) -> bool {
        self.uid.is_some_and(|uid| uid != stat.uid) || self.gid.is_some_and(|gid| gid != stat.gid)
    }

    /// The same, with what it leaves as it is taken from `stat`: the whole
    /// ownership a replacement of that file must have.
    pub fn or_as(&self, stat: &Stat) -> Ownership {
        Ownership {
            uid: Some(self.uid.unwrap_or(stat.uid)),
            gid: Some(self.gid.unwrap_or(stat.gid)),
        }
    }

    /// Set it on `path` (a symlink's own), by number.
    pub fn apply_to(&self, path: &str) -> Result<()> {
        let uid = self.uid.map(|uid| uid.to_string());
        let gid = self.gid.map(|gid| gid.to_string());
        fs::chown(path, uid.as_deref(), gid.as_deref())
    }

    /// Set it on `path` when `stat` (what is there) is owned otherwise;
    /// whether it did.
    pub fn correct(&self, path: &str, stat: &Stat) -> Result<Change> {
        if !self.differs(stat) {
            return Ok(Change::Unchanged);
        }
        self.apply_to(path)?;
        Ok(Change::Changed)
    }
}

/// Ensure a file, directory or symlink (the link itself, not what it points
/// to) has this owner and group, each a name on the target or a number.
///
/// Unchanged when both already match; a name the target does not know is
/// an error, and nothing changes.
#[property]
pub fn has_ownership(path: String, owner: User, group: Group) -> Result<Change> {
    let wanted = Ownership::of(Some(&owner), Some(&group))?;
    let Some(stat) = fs::stat(&path)? else {
        bail!("{path} does not exist")
    };
    wanted.correct(&path, &stat)
}

/// A name or a number, as `NameOrId` decodes.
impl consfig_guest::HasSchema for User {
    fn schema() -> consfig_guest::Schema {
        use consfig_guest::Schema;
        Schema::Either(vec![Schema::String, Schema::Integer])
    }
}

impl consfig_guest::HasSchema for Group {
    fn schema() -> consfig_guest::Schema {
        User::schema()
    }
}

#[cfg(test)]
mod tests {
    use consfig_guest::serde_json::{self, json};
    use consfig_guest::testing::FakeHost;

    use super::*;
    use crate::MODULE;

    fn host() -> FakeHost {
        FakeHost::new()
            .user("www-data", 33, 33)
            .group("www-data", 33, ["ada"])
            .group("adm", 4, Vec::<String>::new())
            .file("/srv/index.html", "hi")
            .file("/srv/target", "")
            .symlink("/srv/link", "target")
            .module(&MODULE)
    }

    fn form(json: &str) -> Form {
        json.parse().unwrap()
    }

    #[test]
    fn sets_owner_and_group_by_name_or_number() {
        let host = host();
        let apply = |json: &str| host.apply_form(&form(json));
        let ids = |path: &str| {
            let stat = host.stat(path).unwrap();
            (stat.uid, stat.gid)
        };
        let named = r#"["file:has-ownership", "/srv/index.html", "www-data", "adm"]"#;
        assert_eq!(apply(named), Ok(Change::Changed));
        assert_eq!(ids("/srv/index.html"), (33, 4));
        assert_eq!(apply(named), Ok(Change::Unchanged));
        let numbers = r#"["file:has-ownership", "/srv/index.html", 1000, "1001"]"#;
        assert_eq!(apply(numbers), Ok(Change::Changed));
        assert_eq!(ids("/srv/index.html"), (1000, 1001));
        assert_eq!(apply(numbers), Ok(Change::Unchanged));
    }

    #[test]
    fn sets_a_symlinks_own_ownership() {
        let host = host();
        let link = r#"["file:has-ownership", "/srv/link", "www-data", "www-data"]"#;
        assert_eq!(host.apply_form(&form(link)), Ok(Change::Changed));
        assert_eq!(host.stat("/srv/link").unwrap().uid, 33);
        assert_eq!(host.stat("/srv/target").unwrap().uid, 0, "not followed");
        assert_eq!(host.apply_form(&form(link)), Ok(Change::Unchanged));
    }

    #[test]
    fn refuses_unknown_names_missing_paths_and_bad_values() {
        let host = host();
        let err = |json: &str| host.apply_form(&form(json)).unwrap_err().to_string();
        assert_eq!(
            err(r#"["file:has-ownership", "/srv/index.html", "nobody", "adm"]"#),
            "there is no user nobody on this host (in its /etc/passwd)"
        );
        assert_eq!(
            err(r#"["file:has-ownership", "/srv/index.html", "www-data", "staff"]"#),
            "there is no group staff on this host (in its /etc/group)"
        );
        assert_eq!(host.stat("/srv/index.html").unwrap().uid, 0, "unchanged");
        assert_eq!(
            err(r#"["file:has-ownership", "/srv/none", 0, 0]"#),
            "/srv/none does not exist"
        );
        assert_eq!(
            err(r#"["file:has-ownership", "/srv/index.html", "a:b", 0]"#),
            "argument 2 (owner): \"a:b\" is not a user or group: \
             expected a name such as \"www-data\" or a number"
        );
        assert!(
            err(r#"["file:has-ownership", "/srv/index.html", 0, -1]"#)
                .starts_with("argument 3 (group): invalid type: integer `-1`")
        );
        assert_eq!(
            err(r#"["file:has-ownership", "/srv/index.html", 0, 4294967296]"#),
            "argument 3 (group): 4294967296 is too large for a user or group id"
        );
    }

    #[test]
    fn names_and_numbers_round_trip_through_forms() {
        assert_eq!(
            serde_json::to_value(User::from("ada")).unwrap(),
            json!("ada")
        );
        assert_eq!(serde_json::to_value(Group::from(33)).unwrap(), json!(33));
        assert_eq!(User::from("33"), User(NameOrId::Id(33)));
        let form = crate::forms::has_ownership("/f", "ada", 7);
        assert_eq!(form.to_string(), r#"["file:has-ownership","/f","ada",7]"#);
    }
}
