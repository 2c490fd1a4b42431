//! `scheduler::Call` validation with the real master's texts (`validation.cpp`), answered
//! as `400 Bad Request` with the body "Failed to validate scheduler::Call: `<text>`".

use crate::mesos::v1::scheduler::{call, Call};

/// Why a call fails validation (the text after "Failed to validate scheduler::Call: ").
///
/// An absent `type` (e.g. a JSON enum name the master does not know, dropped on parsing)
/// reads as `UNKNOWN`, which passes validation and is answered 501 once the framework
/// checks pass, as MESOS-PROTOCOL.md A5 describes.
pub(crate) fn validate_call(c: &Call) -> Result<(), String> {
    let kind = c.r#type.and_then(|t| call::Type::try_from(t).ok()).unwrap_or(call::Type::Unknown);
    if kind == call::Type::Subscribe {
        let Some(subscribe) = &c.subscribe else { return Err("Expecting 'subscribe' to be present".into()) };
        let info = &subscribe.framework_info;
        return match (&info.id, &c.framework_id) {
            (Some(_), None) => Err("Expecting 'framework_id' to be present".into()),
            (Some(a), Some(b)) if a != b => Err("'framework_id' differs from 'subscribe.framework_info.id'".into()),
            (None, Some(_)) => Err("'framework_id' differs from 'subscribe.framework_info.id'".into()),
            _ => Ok(()),
        };
    }
    if c.framework_id.is_none() {
        return Err("Expecting 'framework_id' to be present".into());
    }
    let present = |name: &str, ok: bool| if ok { Ok(()) } else { Err(format!("Expecting '{name}' to be present")) };
    match kind {
        call::Type::Accept => present("accept", c.accept.is_some()),
        call::Type::Decline => present("decline", c.decline.is_some()),
        call::Type::AcceptInverseOffers => present("accept_inverse_offers", c.accept_inverse_offers.is_some()),
        call::Type::DeclineInverseOffers => present("decline_inverse_offers", c.decline_inverse_offers.is_some()),
        call::Type::Kill => present("kill", c.kill.is_some()),
        call::Type::Shutdown => present("shutdown", c.shutdown.is_some()),
        call::Type::Acknowledge => {
            let Some(ack) = &c.acknowledge else { return present("acknowledge", false) };
            if ack.uuid.len() == 16 {
                Ok(())
            } else {
                Err(format!("Failed to parse UUID: not 16 bytes but {}", ack.uuid.len()))
            }
        }
        call::Type::AcknowledgeOperationStatus => {
            let Some(ack) = &c.acknowledge_operation_status else {
                return present("acknowledge_operation_status", false);
            };
            if ack.agent_id.is_none() {
                Err("Expecting 'agent_id' to be present".into())
            } else if ack.uuid.len() != 16 {
                Err(format!("Failed to parse UUID: not 16 bytes but {}", ack.uuid.len()))
            } else {
                Ok(())
            }
        }
        call::Type::Reconcile => present("reconcile", c.reconcile.is_some()),
        call::Type::ReconcileOperations => present("reconcile_operations", c.reconcile_operations.is_some()),
        call::Type::Message => present("message", c.message.is_some()),
        call::Type::Request => present("request", c.request.is_some()),
        call::Type::UpdateFramework => {
            let Some(update) = &c.update_framework else { return present("update_framework", false) };
            if update.framework_info.id.as_ref() != c.framework_id.as_ref() {
                Err("'framework_id' differs from 'update_framework.framework_info.id'".into())
            } else {
                Ok(())
            }
        }
        call::Type::Unknown
        | call::Type::Subscribe
        | call::Type::Teardown
        | call::Type::Revive
        | call::Type::Suppress => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesos::v1;

    fn fw() -> Option<v1::FrameworkId> {
        Some(v1::FrameworkId { value: "f".into() })
    }

    #[test]
    fn validate_requires_type_framework_id_and_payload() {
        assert_eq!(validate_call(&Call::default()).unwrap_err(), "Expecting 'framework_id' to be present");
        let mut c = Call { r#type: Some(call::Type::Accept as i32), ..Default::default() };
        assert_eq!(validate_call(&c).unwrap_err(), "Expecting 'framework_id' to be present");
        c.framework_id = fw();
        assert_eq!(validate_call(&c).unwrap_err(), "Expecting 'accept' to be present");
        c.r#type = Some(call::Type::Revive as i32);
        assert!(validate_call(&c).is_ok());
    }

    #[test]
    fn validate_acknowledge_uuid_is_16_bytes() {
        let ack = call::Acknowledge { uuid: vec![0; 15], ..Default::default() };
        let mut c = Call { r#type: Some(call::Type::Acknowledge as i32), framework_id: fw(), ..Default::default() };
        c.acknowledge = Some(ack);
        assert!(validate_call(&c).unwrap_err().contains("UUID"));
        c.acknowledge.as_mut().unwrap().uuid = vec![0; 16];
        assert!(validate_call(&c).is_ok());
    }

    #[test]
    fn validate_subscribe_ids_must_match() {
        let mut sub = call::Subscribe::default();
        sub.framework_info.id = fw();
        let mut c = Call { r#type: Some(call::Type::Subscribe as i32), subscribe: Some(sub), ..Default::default() };
        assert_eq!(validate_call(&c).unwrap_err(), "Expecting 'framework_id' to be present");
        c.framework_id = Some(v1::FrameworkId { value: "g".into() });
        assert!(validate_call(&c).unwrap_err().contains("differs"));
        c.framework_id = fw();
        assert!(validate_call(&c).is_ok());
    }
}
