//! Carving a launch's resources out of the original proto offers.
//!
//! The engine decides amounts per resource name and role ([`Launch::resources`], [`Launch::ports`]);
//! Mesos wants, in `TaskInfo.resources`, copies of the offered `Resource` messages — with their
//! `allocation_info`, `reservations`, `role`, disk and provider fields intact — holding the
//! amounts taken. A [`Carver`] holds one agent's offered resources and hands out such copies,
//! splitting a request across several offered pieces when one is not enough.
//!
//! Mesos refuses a task whose resources are allocated to more than one role, so once a task has
//! taken a piece allocated to some role, pieces allocated to the same role are preferred.

use crate::mesos::v1;
use crate::model::Role;
use crate::plan::Launch;
use crate::resources::{PortRange, PortSet, Quantity, PORTS};

#[derive(Clone, Debug)]
struct Piece {
    /// The offered resource, with the offer's `allocation_info` filled in when it lacked one.
    proto: v1::Resource,
    /// Its role as the engine sees it (current reservation, legacy role, else `*`).
    role: Role,
    /// The role it is allocated to (MULTI_ROLE), if any.
    allocation: Option<String>,
    /// Scalar amount left.
    left: Quantity,
    /// Ports left (for the `ports` resource).
    ports: PortSet,
}

/// What a launch carved: the task's resources, and its executor's when the launch starts it.
pub(crate) type Carved = (Vec<v1::Resource>, Option<Vec<v1::Resource>>);

/// One agent's offered resources, handed out task by task.
#[derive(Clone, Debug, Default)]
pub(crate) struct Carver {
    pieces: Vec<Piece>,
}

impl Carver {
    /// The resources of these offers (all from one agent), in the order given.
    pub(crate) fn new<'a>(offers: impl IntoIterator<Item = &'a v1::Offer>) -> Carver {
        let mut pieces = Vec::new();
        for offer in offers {
            for resource in &offer.resources {
                if let Some(piece) = Piece::new(resource, offer.allocation_info.as_ref()) {
                    pieces.push(piece);
                }
            }
        }
        Carver { pieces }
    }

    /// The resources for one launch's task alone; on failure nothing is taken.
    #[cfg(test)]
    pub(crate) fn take(&mut self, launch: &Launch) -> Result<Vec<v1::Resource>, String> {
        self.take_with_executor(launch).map(|(task, _)| task)
    }

    /// The resources for one launch: the task's, and its executor's when the launch starts it
    /// (`Launch::executor_resources`); on failure nothing is taken.
    pub(crate) fn take_with_executor(&mut self, launch: &Launch) -> Result<Carved, String> {
        let saved = self.pieces.clone();
        let result = self.take_all(launch).and_then(|task| {
            let Some(wanted) = &launch.executor_resources else { return Ok((task, None)) };
            let (mut allocation, mut executor) = (None, Vec::new());
            for w in wanted.iter() {
                self.take_scalar(&w.name, &w.role, w.amount, &mut allocation, &mut executor)?;
            }
            Ok((task, Some(executor)))
        });
        if result.is_err() {
            self.pieces = saved;
        }
        result
    }

    fn take_all(&mut self, launch: &Launch) -> Result<Vec<v1::Resource>, String> {
        let mut allocation: Option<String> = None;
        let mut out = Vec::new();
        for wanted in launch.resources.iter() {
            self.take_scalar(&wanted.name, &wanted.role, wanted.amount, &mut allocation, &mut out)?;
        }
        let mut ports = launch.ports.to_vec();
        ports.sort();
        for (port, role) in &ports {
            self.take_port(*port, role, &mut allocation, &mut out)?;
        }
        Ok(out)
    }

    /// Piece indexes matching `test`, those allocated to `allocation` first.
    fn candidates(&self, allocation: &Option<String>, test: impl Fn(&Piece) -> bool) -> Vec<usize> {
        let mut found: Vec<usize> = (0..self.pieces.len()).filter(|&i| test(&self.pieces[i])).collect();
        if allocation.is_some() {
            found.sort_by_key(|&i| self.pieces[i].allocation != *allocation);
        }
        found
    }

    fn take_scalar(
        &mut self,
        name: &str,
        role: &Role,
        amount: Quantity,
        allocation: &mut Option<String>,
        out: &mut Vec<v1::Resource>,
    ) -> Result<(), String> {
        let mut need = amount;
        let found = self.candidates(allocation, |p| p.proto.name == name && p.role == *role && !p.left.is_zero());
        for index in found {
            if need.is_zero() {
                break;
            }
            let piece = &mut self.pieces[index];
            let taken = if piece.left.milli() < need.milli() { piece.left } else { need };
            piece.left = piece.left.saturating_sub(taken);
            need = need.saturating_sub(taken);
            allocation.get_or_insert_with(|| piece.allocation.clone().unwrap_or_default());
            let mut copy = piece.proto.clone();
            copy.scalar = Some(v1::value::Scalar { value: taken.as_f64() });
            out.push(copy);
        }
        if need.is_zero() {
            Ok(())
        } else {
            Err(format!("the offers lack {need} of {name} in role {role}"))
        }
    }

    fn take_port(
        &mut self,
        port: u16,
        role: &Role,
        allocation: &mut Option<String>,
        out: &mut Vec<v1::Resource>,
    ) -> Result<(), String> {
        let found = self.candidates(allocation, |p| p.proto.name == PORTS && p.role == *role && p.ports.contains(port));
        let index = *found.first().ok_or_else(|| format!("the offers lack port {port} in role {role}"))?;
        let piece = &mut self.pieces[index];
        piece.ports.remove(port);
        allocation.get_or_insert_with(|| piece.allocation.clone().unwrap_or_default());
        let range = v1::value::Range { begin: u64::from(port), end: u64::from(port) };
        // Ports taken from the same piece in a row join the previous copy's ranges.
        if let Some(last) = out.last_mut().filter(|r| same_piece(r, &piece.proto)) {
            if let Some(ranges) = last.ranges.as_mut() {
                match ranges.range.last_mut() {
                    Some(prev) if prev.end + 1 == u64::from(port) => prev.end = u64::from(port),
                    _ => ranges.range.push(range),
                }
                return Ok(());
            }
        }
        let mut copy = piece.proto.clone();
        copy.ranges = Some(v1::value::Ranges { range: vec![range] });
        out.push(copy);
        Ok(())
    }
}

/// Whether a carved copy came from `piece` (equal apart from the amounts).
fn same_piece(copy: &v1::Resource, piece: &v1::Resource) -> bool {
    let mut a = copy.clone();
    let mut b = piece.clone();
    a.ranges = None;
    b.ranges = None;
    a == b
}

impl Piece {
    fn new(resource: &v1::Resource, offer_allocation: Option<&v1::resource::AllocationInfo>) -> Option<Piece> {
        let mut proto = resource.clone();
        if proto.allocation_info.is_none() {
            proto.allocation_info = offer_allocation.cloned();
        }
        let allocation = proto.allocation_info.as_ref().and_then(|a| a.role.clone());
        let role = model_role(resource);
        let (left, ports) = match v1::value::Type::try_from(resource.r#type) {
            Ok(v1::value::Type::Scalar) => (Quantity::new(resource.scalar.as_ref()?.value).ok()?, PortSet::new()),
            Ok(v1::value::Type::Ranges) if resource.name == PORTS => {
                let ranges = resource
                    .ranges
                    .as_ref()?
                    .range
                    .iter()
                    .filter_map(|r| PortRange::new(u16::try_from(r.begin).ok()?, u16::try_from(r.end).ok()?));
                (Quantity::ZERO, PortSet::from_ranges(ranges))
            }
            _ => return None,
        };
        Some(Piece { proto, role, allocation, left, ports })
    }
}

/// The role the engine saw for this resource (same rule as the offer conversion).
#[allow(deprecated)] // `Resource.role` is how pre-refinement masters report reservations.
fn model_role(resource: &v1::Resource) -> Role {
    let role = match resource.reservations.last() {
        Some(last) => last.role.as_deref(),
        None => resource.role.as_deref(),
    };
    match role {
        Some(role) if !role.is_empty() => Role::new(role),
        _ => Role::unreserved(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::plan::Allocation;

    fn scalar(name: &str, value: f64, reserved: Option<&str>, allocated: &str) -> v1::Resource {
        v1::Resource {
            name: name.into(),
            r#type: v1::value::Type::Scalar as i32,
            scalar: Some(v1::value::Scalar { value }),
            allocation_info: Some(v1::resource::AllocationInfo { role: Some(allocated.into()) }),
            reservations: reserved
                .map(|r| {
                    vec![v1::resource::ReservationInfo {
                        r#type: Some(v1::resource::reservation_info::Type::Static as i32),
                        role: Some(r.into()),
                        ..Default::default()
                    }]
                })
                .unwrap_or_default(),
            ..Default::default()
        }
    }

    fn ports(begin: u64, end: u64) -> v1::Resource {
        v1::Resource {
            name: PORTS.into(),
            r#type: v1::value::Type::Ranges as i32,
            ranges: Some(v1::value::Ranges { range: vec![v1::value::Range { begin, end }] }),
            ..Default::default()
        }
    }

    fn offer(id: &str, resources: Vec<v1::Resource>) -> v1::Offer {
        v1::Offer {
            id: v1::OfferId { value: id.into() },
            agent_id: v1::AgentId { value: "a1".into() },
            resources,
            allocation_info: Some(v1::resource::AllocationInfo { role: Some("web".into()) }),
            ..Default::default()
        }
    }

    fn launch(resources: &[(&str, &str, f64)], ports: &[u16]) -> Launch {
        Launch {
            task_id: "t1".into(),
            group: "g".into(),
            agent_id: "a1".into(),
            hostname: Arc::from("h1"),
            offer_ids: Arc::from(vec!["o1".into()]),
            resources: resources
                .iter()
                .map(|&(name, role, amount)| Allocation {
                    name: Arc::from(name),
                    role: Role::new(role),
                    amount: Quantity::new(amount).unwrap(),
                })
                .collect(),
            ports: ports.iter().map(|&p| (p, Role::unreserved())).collect(),
            executor_id: None,
            executor_resources: None,
        }
    }

    #[test]
    fn carver_splits_across_offers_and_keeps_reservation_fields() {
        let o1 = offer("o1", vec![scalar("cpus", 1.0, Some("web"), "web"), scalar("cpus", 2.0, None, "web")]);
        let o2 = offer("o2", vec![scalar("cpus", 4.0, None, "web")]);
        let mut carver = Carver::new([&o1, &o2]);
        let taken = carver.take(&launch(&[("cpus", "*", 3.0), ("cpus", "web", 0.5)], &[])).unwrap();
        let amounts: Vec<(f64, usize)> =
            taken.iter().map(|r| (r.scalar.as_ref().unwrap().value, r.reservations.len())).collect();
        assert_eq!(amounts, [(2.0, 0), (1.0, 0), (0.5, 1)]);
        assert!(taken.iter().all(|r| r.allocation_info.as_ref().unwrap().role.as_deref() == Some("web")));
        let rest = carver.take(&launch(&[("cpus", "*", 3.0)], &[])).unwrap();
        assert_eq!(rest[0].scalar.as_ref().unwrap().value, 3.0);
        assert!(carver.take(&launch(&[("cpus", "*", 0.5)], &[])).is_err());
        let mut with_executor = launch(&[("cpus", "*", 0.5)], &[]);
        with_executor.executor_resources = Some(Arc::from(vec![Allocation {
            name: Arc::from("cpus"),
            role: Role::new("web"),
            amount: Quantity::new(0.5).unwrap(),
        }]));
        let mut fresh = Carver::new([&o1, &o2]);
        let (task, executor) = fresh.take_with_executor(&with_executor).unwrap();
        assert_eq!(task.len() + executor.as_ref().map_or(0, Vec::len), 2);
        with_executor.executor_resources = Some(Arc::from(vec![Allocation {
            name: Arc::from("cpus"),
            role: Role::new("web"),
            amount: Quantity::new(9.0).unwrap(),
        }]));
        assert!(fresh.take_with_executor(&with_executor).is_err(), "the executor's part does not fit");
        assert!(fresh.take(&launch(&[("cpus", "*", 5.5)], &[])).is_ok(), "a failed take gave everything back");
    }

    #[test]
    fn carver_gives_ports_as_ranges_and_fills_allocation_from_offer() {
        let o1 = offer("o1", vec![ports(31000, 31010)]);
        let mut carver = Carver::new([&o1]);
        let taken = carver.take(&launch(&[], &[31005, 31000, 31001])).unwrap();
        assert_eq!(taken.len(), 1);
        let ranges: Vec<(u64, u64)> =
            taken[0].ranges.as_ref().unwrap().range.iter().map(|r| (r.begin, r.end)).collect();
        assert_eq!(ranges, [(31000, 31001), (31005, 31005)]);
        assert_eq!(taken[0].allocation_info.as_ref().unwrap().role.as_deref(), Some("web"));
        assert!(carver.take(&launch(&[], &[31000])).is_err());
    }

    #[test]
    fn carver_failure_takes_nothing() {
        let o1 = offer("o1", vec![scalar("cpus", 1.0, None, "web")]);
        let mut carver = Carver::new([&o1]);
        assert!(carver.take(&launch(&[("cpus", "*", 1.0), ("mem", "*", 1.0)], &[])).is_err());
        assert!(carver.take(&launch(&[("cpus", "*", 1.0)], &[])).is_ok());
    }
}
