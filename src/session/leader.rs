//! [`Session::handle_leader`]: the leader a detector (ZooKeeper, in the driver's shell) reports.
//!
//! The detector's answer is the master list: a reported leader replaces it. A change of leader
//! while a stream is open (or a SUBSCRIBE is on its way) is handled like a lost connection: the
//! stream is dropped, offers die with it, and the session re-subscribes to the new leader with
//! its framework id after the reconnect backoff, then reconciles, as after any reconnection
//! (MESOS-PROTOCOL-2 §3.4). While no master leads the session subscribes nowhere; a stream that
//! is still open stays open (its master may still serve, and if it died the stream breaks).
//! Failures before a new leader counted against the old one: the new leader is tried after the
//! first reconnect delay, not after the backoff they built up (Mesos' library waits at most
//! `connection_delay_max` after a detection).

use std::time::Duration;

use super::machine::Link;
use super::masters::Endpoint;
use super::{Action, Session};

impl Session {
    /// A leader detector reports the leading master's scheduler endpoint, or `None` when no
    /// master leads. The first report may come before the first timeout: a session told `None`
    /// first never subscribes to its configured masters, only to detected leaders.
    pub fn handle_leader(&mut self, leader: Option<Endpoint>, now: Duration) {
        if self.link == Link::Stopped {
            return;
        }
        let reason = leader.as_ref().map(|l| format!("the leading master is now {}", l.authority()));
        let changed = self.masters.detected(leader);
        let linked = matches!(self.link, Link::Connecting | Link::Connected { .. } | Link::Subscribed { .. });
        if changed && reason.is_some() {
            self.reconnects = 0;
        }
        if let (true, true, Some(reason)) = (changed, linked, reason.clone()) {
            self.actions.push_back(Action::Disconnect);
            self.lose_link(now, reason);
        } else if let (true, Some(_), Link::Waiting { at }) = (changed, reason, &self.link) {
            let at = *at;
            let soon = now.saturating_add(self.config.reconnect.delay(0, &mut self.rng));
            self.link = Link::Waiting { at: at.min(soon) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesos::v1;
    use crate::mesos::v1::scheduler::{event, Event};
    use crate::session::{CallOutcome, SessionConfig, Update};

    fn endpoint(address: &str) -> Endpoint {
        Endpoint::parse(address).unwrap()
    }

    fn subscribe_target(session: &mut Session) -> Option<(Option<String>, String)> {
        std::iter::from_fn(|| session.poll_action()).find_map(|action| match action {
            Action::Subscribe(call, to) => Some((call.framework_id.map(|id| id.value), to.authority().to_owned())),
            _ => None,
        })
    }

    fn subscribed(session: &mut Session, now: Duration) {
        session.handle_subscribed("s-1".into(), now);
        let event = Event {
            r#type: Some(event::Type::Subscribed as i32),
            subscribed: Some(event::Subscribed {
                framework_id: v1::FrameworkId { value: "fw-1".into() },
                heartbeat_interval_seconds: Some(15.0),
                master_info: None,
            }),
            ..Default::default()
        };
        session.handle_event(event, now);
        assert!(session.is_subscribed());
    }

    #[test]
    fn session_waits_for_a_detected_leader_before_subscribing() {
        let mut session = Session::new(SessionConfig::new("t", "root")).unwrap();
        session.handle_leader(None, Duration::ZERO);
        assert_eq!(session.poll_timeout(), None);
        session.handle_timeout(Duration::from_secs(1));
        assert_eq!(subscribe_target(&mut session), None);
        session.handle_leader(Some(endpoint("10.0.0.1:5050")), Duration::from_secs(2));
        let at = session.poll_timeout().unwrap();
        session.handle_timeout(at.max(Duration::from_secs(2)));
        assert_eq!(subscribe_target(&mut session), Some((None, "10.0.0.1:5050".to_owned())));
    }

    #[test]
    fn session_resubscribes_to_a_new_leader_with_its_framework_id() {
        let mut session = Session::new(SessionConfig::new("t", "root")).unwrap();
        session.handle_leader(Some(endpoint("10.0.0.1:5050")), Duration::ZERO);
        session.handle_timeout(Duration::ZERO);
        assert_eq!(subscribe_target(&mut session).unwrap().1, "10.0.0.1:5050");
        subscribed(&mut session, Duration::ZERO);
        // The same leader again changes nothing.
        session.handle_leader(Some(endpoint("http://10.0.0.1:5050")), Duration::from_secs(1));
        assert!(session.is_subscribed());
        // No leader: the open stream stays.
        session.handle_leader(None, Duration::from_secs(2));
        assert!(session.is_subscribed());
        session.handle_leader(Some(endpoint("10.0.0.2:5050")), Duration::from_secs(3));
        assert!(!session.is_subscribed());
        let actions: Vec<Action> = std::iter::from_fn(|| session.poll_action()).collect();
        assert!(actions.iter().any(|a| matches!(a, Action::Disconnect)), "{actions:?}");
        let updates: Vec<Update> = std::iter::from_fn(|| session.poll_update()).collect();
        assert!(
            updates.iter().any(|u| matches!(u, Update::Disconnected { reason } if reason.contains("10.0.0.2:5050"))),
            "{updates:?}"
        );
        let at = session.poll_timeout().unwrap();
        assert!(at > Duration::from_secs(3), "{at:?}");
        session.handle_timeout(at);
        assert_eq!(subscribe_target(&mut session), Some((Some("fw-1".to_owned()), "10.0.0.2:5050".to_owned())));
    }

    #[test]
    fn session_tries_a_new_leader_soon_whatever_the_backoff_against_the_old_one() {
        let mut session = Session::new(SessionConfig::new("t", "root")).unwrap();
        session.handle_leader(Some(endpoint("10.0.0.1:5050")), Duration::ZERO);
        session.handle_timeout(Duration::ZERO);
        assert!(subscribe_target(&mut session).is_some());
        subscribed(&mut session, Duration::ZERO);
        // The leader dies: its stream and then every attempt fail, the backoff grows.
        let mut now = Duration::from_secs(1);
        session.handle_disconnected(now);
        for _ in 0..5 {
            now = session.poll_timeout().unwrap().max(now);
            session.handle_timeout(now);
            let Some(Action::Subscribe(_, _)) = std::iter::from_fn(|| session.poll_action()).last() else {
                panic!("no SUBSCRIBE")
            };
            session.handle_subscribe_failed(CallOutcome::Unavailable("connection refused".into()), now);
        }
        let waiting = session.poll_timeout().unwrap() - now;
        assert!(waiting > Duration::from_secs(2), "the backoff grew: {waiting:?}");
        session.handle_leader(Some(endpoint("10.0.0.2:5050")), now);
        let soon = session.poll_timeout().unwrap() - now;
        assert!(soon <= Duration::from_secs(1), "{soon:?}");
        session.handle_timeout(now + soon);
        assert_eq!(subscribe_target(&mut session), Some((Some("fw-1".to_owned()), "10.0.0.2:5050".to_owned())));
    }

    #[test]
    fn session_ignores_leaders_once_stopped() {
        let mut session = Session::new(SessionConfig::new("t", "root")).unwrap();
        session.stop(crate::session::StopMode::Failover);
        while session.poll_action().is_some() {}
        session.handle_leader(Some(endpoint("10.0.0.2:5050")), Duration::ZERO);
        assert!(session.is_stopped());
        assert!(session.poll_action().is_none());
    }
}
