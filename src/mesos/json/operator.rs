//! The operator API (`POST /api/v1`) in the master's JSON: `mesos.v1.master.Call` and
//! `Response`, by the same rules as the scheduler API.

use super::*;

const OPERATOR_CALL: &str = ".mesos.v1.master.Call";
const OPERATOR_RESPONSE: &str = ".mesos.v1.master.Response";

/// An operator `Call` as the master's JSON (what a client posts with `application/json`).
///
/// ```
/// use offerpack::mesos::json;
/// use offerpack::mesos::v1::master::{call, Call};
///
/// let get_agents = Call { r#type: Some(call::Type::GetAgents as i32) };
/// assert_eq!(json::encode_operator_call(&get_agents), br#"{"type":"GET_AGENTS"}"#);
/// assert_eq!(json::decode_operator_call(br#"{"type":"GET_AGENTS"}"#).unwrap(), get_agents);
/// ```
pub fn encode_operator_call(call: &v1::master::Call) -> Vec<u8> {
    encode(OPERATOR_CALL, &call.encode_to_vec())
}

/// Parses an operator `Call` from JSON by the master's rules (see the module docs): an unknown
/// type name is dropped, leaving `type` unset.
pub fn decode_operator_call(json: &[u8]) -> Result<v1::master::Call, JsonError> {
    let wire = to_wire(OPERATOR_CALL, json)?;
    v1::master::Call::decode(wire.as_slice()).map_err(|e| JsonError::Internal { message: e.to_string() })
}

/// An operator `Response` as the master's JSON; the GET_AGENTS, GET_FRAMEWORKS and GET_TASKS
/// payloads always carry their top-level arrays, empty or not.
///
/// ```
/// use offerpack::mesos::json;
/// use offerpack::mesos::v1::master::{response, Response};
///
/// let none = Response {
///     r#type: Some(response::Type::GetAgents as i32),
///     get_agents: Some(response::GetAgents::default()),
///     ..Default::default()
/// };
/// assert_eq!(
///     json::encode_operator_response(&none),
///     br#"{"type":"GET_AGENTS","get_agents":{"agents":[],"recovered_agents":[]}}"#
/// );
/// ```
pub fn encode_operator_response(response: &v1::master::Response) -> Vec<u8> {
    encode(OPERATOR_RESPONSE, &response.encode_to_vec())
}

/// Parses an operator `Response` from the master's JSON.
pub fn decode_operator_response(json: &[u8]) -> Result<v1::master::Response, JsonError> {
    let wire = to_wire(OPERATOR_RESPONSE, json)?;
    v1::master::Response::decode(wire.as_slice()).map_err(|e| JsonError::Internal { message: e.to_string() })
}

/// proto2's `IsInitialized` for a serialized operator `Call` (see
/// [`check_call_required_fields`]).
pub fn check_operator_call_required_fields(protobuf: &[u8]) -> Result<(), JsonError> {
    check_required_fields(OPERATOR_CALL, protobuf)
}
