//! The driver's ZooKeeper leader detector: [`crate::zk_shell`]'s, shared with the agent, which
//! follows the group node of a `zk://` URL and reports the leading master's scheduler endpoint
//! on a `watch` channel (`None` while no master leads) for [`Session::handle_leader`].
//!
//! [`Session::handle_leader`]: crate::session::Session::handle_leader

pub(crate) use crate::zk_shell::spawn_detector as spawn;
