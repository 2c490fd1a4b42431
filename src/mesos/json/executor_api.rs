//! The executor API (`POST /api/v1/executor` on an agent) in the agents' JSON:
//! `mesos.v1.executor.Call` and `Event`, by the same rules as the scheduler API.

use super::*;

const EXECUTOR_CALL: &str = ".mesos.v1.executor.Call";
const EXECUTOR_EVENT: &str = ".mesos.v1.executor.Event";

/// An executor `Call` as JSON (what an executor posts with `application/json`).
pub fn encode_executor_call(call: &v1::executor::Call) -> Vec<u8> {
    encode(EXECUTOR_CALL, &call.encode_to_vec())
}

/// Parses an executor `Call` from JSON (see the module docs).
pub fn decode_executor_call(json: &[u8]) -> Result<v1::executor::Call, JsonError> {
    let wire = to_wire(EXECUTOR_CALL, json)?;
    v1::executor::Call::decode(wire.as_slice()).map_err(|e| JsonError::Internal { message: e.to_string() })
}

/// An executor `Event` as JSON (one RecordIO record of a JSON SUBSCRIBE stream).
pub fn encode_executor_event(event: &v1::executor::Event) -> Vec<u8> {
    encode(EXECUTOR_EVENT, &event.encode_to_vec())
}

/// Parses an executor `Event` from JSON.
pub fn decode_executor_event(json: &[u8]) -> Result<v1::executor::Event, JsonError> {
    let wire = to_wire(EXECUTOR_EVENT, json)?;
    v1::executor::Event::decode(wire.as_slice()).map_err(|e| JsonError::Internal { message: e.to_string() })
}

/// proto2's `IsInitialized` for a serialized executor `Call` (see
/// [`check_call_required_fields`]).
pub fn check_executor_call_required_fields(protobuf: &[u8]) -> Result<(), JsonError> {
    check_required_fields(EXECUTOR_CALL, protobuf)
}
