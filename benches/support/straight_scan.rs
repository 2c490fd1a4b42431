//! The baseline the speed targets are measured against: a straight port of Fenzo's scan.
//!
//! Every task, in the engine's order (higher priority first, then as given), asks every agent —
//! resources and port count, then `hostname:UNIQUE` (a lookup of the group's hosts), then the
//! score: cpu and memory bin packing (Fenzo's formula) times the fitness weight, plus each soft
//! `GROUP_BY` term (1 / (1 + tasks of the group in this value − fewest in any value), with the
//! fewest taken as 0 while some value holds none) — and the best total wins; ties go to the
//! higher fitness part, then the lower agent id, as the engine ranks. No index, no classes, no
//! filling: what a careful straight port does, with dense arrays and no allocation per pair.
//!
//! It knows just what the generated workloads carry (the benches check that its plans equal
//! [`Strategy::Scan`](offerpack::Strategy)'s before timing it) and reads only the public model.

use std::collections::HashMap;

use offerpack::workload::Workload;
use offerpack::ResourceValue;

/// Resources a task may ask for, in column order.
const DIMS: [&str; 4] = ["cpus", "mem", "disk", "network"];

/// The agents as the scan sees them.
pub struct Cluster {
    ids: Vec<String>,
    /// Free amounts per agent, columns of [`DIMS`] then ports, in thousandths (ports: count).
    free: Vec<[i64; 5]>,
    total: Vec<[i64; 5]>,
    host: Vec<u32>,
    zone: Vec<u32>,
    zones: u32,
}

/// A placement: task index and agent index.
pub type Placement = (usize, usize);

impl Cluster {
    /// The workload's agents, one per offer, ordered by agent id.
    pub fn of(w: &Workload) -> Cluster {
        let mut offers: Vec<_> = w.offers.iter().collect();
        offers.sort_by(|a, b| a.agent_id.as_str().cmp(b.agent_id.as_str()));
        let mut zones: HashMap<&str, u32> = HashMap::new();
        let mut hosts: HashMap<&str, u32> = HashMap::new();
        let mut cluster = Cluster {
            ids: Vec::new(),
            free: Vec::new(),
            total: Vec::new(),
            host: Vec::new(),
            zone: Vec::new(),
            zones: 0,
        };
        for offer in offers {
            let mut row = [0i64; 5];
            for (column, name) in DIMS.iter().enumerate() {
                row[column] = offer.scalar(name).milli();
            }
            row[4] = offer
                .resources
                .iter()
                .map(|r| match &r.value {
                    ResourceValue::Ports(set) => i64::from(set.count()),
                    ResourceValue::Scalar(_) => 0,
                })
                .sum();
            let zone = offer.attributes.get("zone").map_or("", |z| z.as_str());
            let next = zones.len() as u32;
            cluster.zone.push(*zones.entry(zone).or_insert(next));
            let next = hosts.len() as u32;
            cluster.host.push(*hosts.entry(&offer.hostname).or_insert(next));
            cluster.ids.push(offer.agent_id.as_str().to_owned());
            cluster.free.push(row);
            cluster.total.push(row);
        }
        cluster.zones = zones.len() as u32;
        cluster
    }

    /// The agent id of agent index `a`.
    pub fn id(&self, a: usize) -> &str {
        &self.ids[a]
    }
}

/// Places the workload's tasks; returns (task, agent) placements in placement order.
pub fn place(w: &Workload, cluster: &mut Cluster, fitness_weight: f64) -> Vec<Placement> {
    let mut order: Vec<usize> = (0..w.tasks.len()).collect();
    order.sort_by_key(|&t| std::cmp::Reverse(w.tasks[t].priority));
    // Per group: hosts used, and tasks per zone.
    let mut hosts_of: HashMap<&str, Vec<u32>> = HashMap::new();
    let mut zones_of: HashMap<&str, Vec<u32>> = HashMap::new();
    let mut placed = Vec::with_capacity(order.len());
    for t in order {
        let task = &w.tasks[t];
        let mut ask = [0i64; 5];
        for (column, name) in DIMS.iter().enumerate() {
            ask[column] = task.ask(name).milli();
        }
        ask[4] = i64::from(task.ports.count);
        let unique = task.hard.iter().any(|c| c.name() == "hostname:UNIQUE");
        let group_by: Vec<f64> =
            task.soft.iter().filter(|s| s.constraint.name().starts_with("zone:GROUP_BY")).map(|s| s.weight).collect();
        let group = task.group.as_str();
        let used_hosts = hosts_of.get(group).map_or(&[][..], Vec::as_slice);
        let zone_counts = zones_of.get(group).map_or(&[][..], Vec::as_slice);
        let fewest = if zone_counts.len() == cluster.zones as usize && zone_counts.iter().all(|&c| c > 0) {
            zone_counts.iter().copied().min().unwrap_or(0)
        } else {
            0
        };
        let mut best: Option<(f64, f64, usize)> = None;
        for a in 0..cluster.free.len() {
            let (free, total) = (&cluster.free[a], &cluster.total[a]);
            if (0..5).any(|c| free[c] < ask[c]) {
                continue;
            }
            if unique && used_hosts.contains(&cluster.host[a]) {
                continue;
            }
            let mut fit = 0.0;
            for c in 0..2 {
                if total[c] > 0 {
                    fit += ((total[c] - free[c] + ask[c]) as f64 / total[c] as f64).clamp(0.0, 1.0);
                }
            }
            let local = fitness_weight * (fit / 2.0).clamp(0.0, 1.0);
            let mut total_score = 0.0;
            for &weight in &group_by {
                let here = zone_counts.get(cluster.zone[a] as usize).copied().unwrap_or(0);
                let counted = if here == 0 { 0 } else { here - fewest };
                total_score += weight * (1.0 / (1.0 + f64::from(counted))).clamp(0.0, 1.0);
            }
            total_score += local;
            let beats = match best {
                None => true,
                Some((bt, bl, _)) => total_score.total_cmp(&bt).then(local.total_cmp(&bl)).is_gt(),
            };
            if beats {
                best = Some((total_score, local, a));
            }
        }
        let Some((_, _, a)) = best else { continue };
        for (free, asked) in cluster.free[a].iter_mut().zip(ask) {
            *free -= asked;
        }
        hosts_of.entry(group).or_default().push(cluster.host[a]);
        let zones = zones_of.entry(group).or_insert_with(|| vec![0; cluster.zones as usize]);
        zones[cluster.zone[a] as usize] += 1;
        placed.push((t, a));
    }
    placed
}
