//! Cheap-to-clone identifiers for agents, offers, tasks, groups and roles.

use std::borrow::Borrow;
use std::fmt;
use std::sync::Arc;

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Eq, PartialOrd, Ord)]
        pub struct $name(Arc<str>);

        impl std::hash::Hash for $name {
            /// Hashes the text, as `str` does (so lookups by `&str` through `Borrow` work).
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                (*self.0).hash(state)
            }
        }

        impl PartialEq for $name {
            /// Equal text; the same allocation is equal at once without comparing bytes.
            fn eq(&self, other: &Self) -> bool {
                Arc::ptr_eq(&self.0, &other.0) || crate::util::same_text(&self.0, &other.0)
            }
        }

        impl $name {
            /// A new identifier from text.
            pub fn new(text: impl AsRef<str>) -> Self {
                Self(Arc::from(text.as_ref()))
            }

            /// The identifier's text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// An identifier sharing `text`'s storage (no copy of it).
            #[allow(dead_code)]
            pub(crate) fn from_shared(text: Arc<str>) -> Self {
                Self(text)
            }

            /// The text as shared storage, for lookups that compare pointers first.
            #[allow(dead_code)]
            pub(crate) fn shared(&self) -> &Arc<str> {
                &self.0
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                Self::new(text)
            }
        }

        impl From<String> for $name {
            fn from(text: String) -> Self {
                Self(Arc::from(text))
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&*self.0, f)
            }
        }
    };
}

string_id!(
    /// The Mesos agent (slave) id an offer comes from.
    AgentId
);
string_id!(
    /// The id of one resource offer.
    OfferId
);
string_id!(
    /// The id of one task.
    TaskId
);
string_id!(
    /// The job or app a task belongs to; constraints count tasks per group.
    GroupId
);
string_id!(
    /// A Mesos role; `*` is the unreserved role.
    Role
);

impl Role {
    /// The unreserved role, `*`.
    pub fn unreserved() -> Role {
        // One allocation per process, so the engine recognises it by pointer.
        static UNRESERVED: std::sync::OnceLock<Arc<str>> = std::sync::OnceLock::new();
        Role(UNRESERVED.get_or_init(|| Arc::from("*")).clone())
    }

    /// Whether this is the unreserved role `*`.
    pub fn is_unreserved(&self) -> bool {
        self.as_str() == "*"
    }
}
