//! A record of the tasks live in a cluster across passes, checking every launch against it.
//!
//! [`check_plan`](super::check_plan) judges one pass against the running tasks it was handed; it
//! cannot tell whether the live path handed the pass everything (a running task forgotten, an
//! agent's attributes lost, a claim dropped). A [`Ledger`] keeps its own account of what runs
//! where — fed by the test, not by the engine — and checks each launch, in plan order, against
//! the tasks live at that moment, with the checker's reading of the built-in constraints (see
//! [`checker`](super::checker)): a pass that is sound alone but blind to an earlier pass is
//! caught.
//!
//! ```
//! use offerpack::plugins::constraints::Unique;
//! use offerpack::testkit::Ledger;
//! use offerpack::{AgentId, Attributes, TaskSpec};
//! use std::sync::Arc;
//!
//! let unique = Arc::new(Unique::new("hostname"));
//! let t1 = TaskSpec::builder("t1", "web").hard(unique.clone()).build().unwrap();
//! let t2 = TaskSpec::builder("t2", "web").hard(unique).build().unwrap();
//! let (agent, attrs) = (AgentId::new("a1"), Attributes::new());
//! let mut ledger = Ledger::new();
//! assert!(ledger.launch(&t1, &agent, "h1", &attrs).is_ok()); // one pass
//! assert!(ledger.launch(&t2, &agent, "h1", &attrs).is_err()); // a later pass, same host
//! assert!(ledger.end(&t1.id));
//! assert!(ledger.launch(&t2, &agent, "h1", &attrs).is_ok()); // the host is free again
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;

use super::rules::{attribute, values_of, Rule, Tally};
use super::Violation;
use crate::model::{AgentId, Attributes, GroupId, Offer, TaskId};
use crate::plugins::HardConstraint;
use crate::spec::TaskSpec;

/// One live task: its group, its hard constraints and where it runs.
#[derive(Clone, Debug)]
struct Live {
    group: GroupId,
    hard: Vec<Arc<dyn HardConstraint>>,
    /// The agent as the checker's rules read it: an offer with its agent id, hostname and
    /// attributes (and no resources).
    agent: Offer,
}

impl Live {
    fn rules(&self) -> impl Iterator<Item = (&Arc<dyn HardConstraint>, Rule)> + '_ {
        self.hard.iter().filter_map(|c| Rule::of(&**c).map(|rule| (c, rule)))
    }

    fn claims(&self) -> bool {
        self.hard.iter().any(|c| c.claims_agent())
    }

    fn value(&self, attr: &str) -> Option<String> {
        attribute(&self.agent, attr)
    }

    /// The lowest count limit of this task's `UNIQUE` (limit 1) and `MAX_PER` rules on `attr`.
    fn limit(&self, attr: &str) -> Option<u32> {
        let limit = |rule: Rule| match rule {
            Rule::Unique(a) if a == attr => Some(1),
            Rule::MaxPer(a, n) if a == attr => Some(n),
            _ => None,
        };
        self.rules().filter_map(|(_, rule)| limit(rule)).min()
    }

    fn clusters(&self, attr: &str) -> bool {
        self.rules().any(|(_, rule)| matches!(rule, Rule::Cluster(a, None) if a == attr))
    }
}

/// The tasks live in a cluster, each with its group, hard constraints and agent; see the
/// module docs.
#[derive(Clone, Debug, Default)]
pub struct Ledger {
    live: BTreeMap<TaskId, Live>,
}

impl Ledger {
    /// An empty ledger: no task live.
    pub fn new() -> Ledger {
        Ledger::default()
    }

    /// Records a launch of `task` on `agent` (with that agent's hostname and attributes), first
    /// checking every built-in hard constraint of the task against the tasks live now (the
    /// checker's placement-time rules) and exclusivity both ways: an `EXCLUSIVE` task goes only
    /// to an agent holding no other group's live task, and no task goes to an agent where a live
    /// task of another group claimed it. Nothing is recorded when a rule is broken.
    ///
    /// # Errors
    /// The first rule broken ([`Violation::Claimed`] or [`Violation::ConstraintBroken`]), or
    /// [`Violation::LaunchedTwice`] when the task is live already.
    pub fn launch(
        &mut self,
        task: &TaskSpec,
        agent: &AgentId,
        hostname: &str,
        attrs: &Attributes,
    ) -> Result<(), Violation> {
        let entry = self.new_entry(task, agent, hostname, attrs)?;
        if let Some(owner) = self.on_agent(agent).find(|l| l.group != task.group && l.claims()) {
            let owner = owner.group.clone();
            return Err(Violation::Claimed { task: task.id.clone(), agent: agent.clone(), owner });
        }
        let tally = self.tally();
        if let Some((c, _)) = entry.rules().find(|(_, rule)| !rule.allows(&tally, &task.group, &[&entry.agent])) {
            let constraint = c.name().to_owned();
            return Err(Violation::ConstraintBroken { task: task.id.clone(), agent: agent.clone(), constraint });
        }
        self.live.insert(task.id.clone(), entry);
        Ok(())
    }

    /// The record of `task` on `agent`, or [`Violation::LaunchedTwice`] when it is live already.
    fn new_entry(
        &self,
        task: &TaskSpec,
        agent: &AgentId,
        hostname: &str,
        attrs: &Attributes,
    ) -> Result<Live, Violation> {
        if self.live.contains_key(&task.id) {
            return Err(Violation::LaunchedTwice(task.id.clone()));
        }
        Ok(Live { group: task.group.clone(), hard: task.hard.clone(), agent: host(agent, hostname, attrs) })
    }

    /// Records a task that runs without checking it (one present before the test began, or
    /// started by someone else). Its hard constraints count as if they had been checked:
    /// [`Ledger::check_state`] reads them, and an `EXCLUSIVE` one claims the agent.
    ///
    /// # Errors
    /// [`Violation::LaunchedTwice`] when the task is live already (nothing is recorded).
    pub fn adopt(
        &mut self,
        task: &TaskSpec,
        agent: &AgentId,
        hostname: &str,
        attrs: &Attributes,
    ) -> Result<(), Violation> {
        let entry = self.new_entry(task, agent, hostname, attrs)?;
        self.live.insert(task.id.clone(), entry);
        Ok(())
    }

    /// A task ended (finished, failed, killed or lost); false if it was not live.
    pub fn end(&mut self, task: &TaskId) -> bool {
        self.live.remove(task).is_some()
    }

    /// Whether `task` is live.
    pub fn is_live(&self, task: &TaskId) -> bool {
        self.live.contains_key(task)
    }

    /// Number of live tasks.
    pub fn live(&self) -> usize {
        self.live.len()
    }

    /// Checks what must hold of the live tasks at any moment, whatever order they were placed
    /// in (each a consequence of the placement-time rules for tasks that are all still live):
    ///
    /// - `IS`, `LIKE`, `UNLIKE`, `CLUSTER` with a value: each task's agent satisfies them;
    /// - `UNIQUE` and `MAX_PER`: per group and value, the tasks carrying a limit of `n` or less
    ///   on that attribute number at most `n` (the last of them placed saw all the others);
    /// - `CLUSTER` without a value: a group's tasks carrying it share one value;
    /// - `EXCLUSIVE`: no task of another group on an agent where such a task runs.
    ///
    /// `GROUP_BY` and `BALANCE` constrain each placement only, not the live set, and are not
    /// checked here.
    ///
    /// # Errors
    /// The first rule found broken, by task id.
    pub fn check_state(&self) -> Result<(), Violation> {
        for (id, task) in &self.live {
            for (c, rule) in task.rules() {
                if !self.holds(task, &rule) {
                    let agent = task.agent.agent_id.clone();
                    return Err(Violation::ConstraintBroken {
                        task: id.clone(),
                        agent,
                        constraint: c.name().to_owned(),
                    });
                }
            }
            if task.claims() {
                if let Some((other, _)) = self.live.iter().find(|(_, o)| on_agent_of(o, task) && o.group != task.group)
                {
                    let (agent, owner) = (task.agent.agent_id.clone(), task.group.clone());
                    return Err(Violation::Claimed { task: other.clone(), agent, owner });
                }
            }
        }
        Ok(())
    }

    /// Whether `rule` of live `task` holds of the live set (see [`Ledger::check_state`]).
    fn holds(&self, task: &Live, rule: &Rule) -> bool {
        let same_value = |other: &Live, attr: &str| other.group == task.group && other.value(attr) == task.value(attr);
        match rule {
            Rule::Unique(a) | Rule::MaxPer(a, _) => {
                let (Some(_), Some(n)) = (task.value(a), task.limit(a)) else { return false };
                let limited = self.live.values().filter(|o| same_value(o, a) && o.limit(a).is_some_and(|m| m <= n));
                limited.count() <= n as usize
            }
            Rule::Cluster(a, None) => {
                task.value(a).is_some()
                    && self.live.values().filter(|o| o.group == task.group && o.clusters(a)).all(|o| same_value(o, a))
            }
            Rule::Cluster(_, Some(_)) | Rule::Is(..) | Rule::Like(..) | Rule::Unlike(..) => {
                rule.allows(&Tally::default(), &task.group, &[&task.agent])
            }
            Rule::GroupBy(..) | Rule::Balance(..) | Rule::Exclusive => true,
        }
    }

    fn on_agent<'s>(&'s self, agent: &'s AgentId) -> impl Iterator<Item = &'s Live> + 's {
        self.live.values().filter(move |l| &l.agent.agent_id == agent)
    }

    /// Counts of the live tasks per group and attribute value, and the groups on each agent.
    fn tally(&self) -> Tally {
        let mut tally = Tally::default();
        for task in self.live.values() {
            tally.add(&task.group, values_of(&task.agent.hostname, &task.agent.attributes));
            tally.groups_on.entry(task.agent.agent_id.clone()).or_default().insert(task.group.clone());
        }
        tally
    }
}

fn on_agent_of(task: &Live, other: &Live) -> bool {
    task.agent.agent_id == other.agent.agent_id
}

/// An agent as the checker's rules read it.
fn host(agent: &AgentId, hostname: &str, attrs: &Attributes) -> Offer {
    let mut offer = Offer::new("ledger", agent.clone(), hostname);
    offer.attributes = attrs.clone();
    offer
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use super::*;
    use crate::model::AttrValue;
    use crate::plugins::constraints::{Balance, Cluster, Exclusive, GroupBy, Is, Like, MaxPer, Unique, Unlike};

    /// An agent: id, hostname, attributes.
    type Agent = (AgentId, String, Attributes);

    /// A task adopted unchecked: id, group, hard constraints, agent.
    type Adopted<'a> = (&'a str, &'a str, Vec<Arc<dyn HardConstraint>>, Agent);

    /// Agent `a{i}` on host `h{i}` in `zone`.
    fn agent(i: u32, zone: &str) -> Agent {
        let attrs = Attributes::from_pairs([("zone", AttrValue::text(zone))]);
        (AgentId::new(format!("a{i}")), format!("h{i}"), attrs)
    }

    fn task(id: &str, group: &str, hard: impl IntoIterator<Item = Arc<dyn HardConstraint>>) -> TaskSpec {
        hard.into_iter().fold(TaskSpec::builder(id, group), |b, c| b.hard(c)).build().unwrap()
    }

    fn launch(ledger: &mut Ledger, task: &TaskSpec, (id, host, attrs): &Agent) -> Result<(), Violation> {
        ledger.launch(task, id, host, attrs)
    }

    fn broken(task: &str, agent: &str, constraint: &str) -> Result<(), Violation> {
        let (task, agent, constraint) = (task.into(), agent.into(), constraint.to_owned());
        Err(Violation::ConstraintBroken { task, agent, constraint })
    }

    /// `first` launched in one pass, `second` in a later one: the second is refused on `to`
    /// with `constraint`, accepted once `first` ends, and the live set is then sound.
    fn refused_then_freed(hard: Arc<dyn HardConstraint>, first_on: u32, second_on: (u32, &str)) {
        let name = hard.name().to_owned();
        let mut ledger = Ledger::new();
        let (t1, t2) = (task("t1", "web", [hard.clone()]), task("t2", "web", [hard]));
        launch(&mut ledger, &t1, &agent(first_on, "a")).unwrap();
        let to = agent(second_on.0, second_on.1);
        assert_eq!(launch(&mut ledger, &t2, &to), broken("t2", to.0.as_str(), &name), "{name}");
        assert_eq!(ledger.live(), 1, "a refused launch is not recorded");
        assert!(ledger.end(&t1.id));
        assert_eq!(launch(&mut ledger, &t2, &to), Ok(()), "{name} after the first task ended");
        assert_eq!(ledger.check_state(), Ok(()));
    }

    #[test]
    fn ledger_unique_on_hostname_refused_across_passes() {
        refused_then_freed(Arc::new(Unique::new("hostname")), 1, (1, "b"));
    }

    #[test]
    fn ledger_unique_on_attribute_refused_across_passes() {
        refused_then_freed(Arc::new(Unique::new("zone")), 1, (2, "a"));
    }

    #[test]
    fn ledger_max_per_refused_past_its_limit() {
        let two = NonZeroU32::new(2).unwrap();
        let hard: Arc<dyn HardConstraint> = Arc::new(MaxPer::new("zone", two));
        let mut ledger = Ledger::new();
        for (i, id) in ["t1", "t2"].into_iter().enumerate() {
            launch(&mut ledger, &task(id, "web", [hard.clone()]), &agent(i as u32, "a")).unwrap();
        }
        let t3 = task("t3", "web", [hard.clone()]);
        assert_eq!(launch(&mut ledger, &t3, &agent(5, "a")), broken("t3", "a5", "zone:MAX_PER:2"));
        assert_eq!(launch(&mut ledger, &t3, &agent(5, "b")), Ok(()));
    }

    #[test]
    fn ledger_max_per_on_hostname_refused_across_passes() {
        let one = NonZeroU32::new(1).unwrap();
        refused_then_freed(Arc::new(MaxPer::new("hostname", one)), 3, (3, "c"));
    }

    #[test]
    fn ledger_cluster_without_value_refused_on_another_value() {
        refused_then_freed(Arc::new(Cluster::new("zone", None)), 1, (2, "b"));
    }

    #[test]
    fn ledger_cluster_on_hostname_refused_on_another_host() {
        refused_then_freed(Arc::new(Cluster::new("hostname", None)), 1, (2, "a"));
    }

    #[test]
    fn ledger_balance_refused_on_a_full_value() {
        let three = NonZeroU32::new(3).unwrap();
        refused_then_freed(Arc::new(Balance::new("zone", three)), 1, (2, "a"));
    }

    #[test]
    fn ledger_group_by_refused_on_the_most_used_value() {
        let hard: Arc<dyn HardConstraint> = Arc::new(GroupBy::new("zone", 0));
        let mut ledger = Ledger::new();
        for (id, i, zone) in [("t1", 1, "a"), ("t2", 2, "a"), ("t3", 3, "b")] {
            launch(&mut ledger, &task(id, "web", [hard.clone()]), &agent(i, zone)).unwrap();
        }
        let t4 = task("t4", "web", [hard.clone()]);
        assert_eq!(launch(&mut ledger, &t4, &agent(4, "a")), broken("t4", "a4", "zone:GROUP_BY"));
        assert!(ledger.end(&"t1".into()));
        assert_eq!(launch(&mut ledger, &t4, &agent(4, "a")), Ok(()), "a and b hold one each now");
    }

    #[test]
    fn ledger_static_rules_refuse_a_wrong_agent() {
        let rules: Vec<(Arc<dyn HardConstraint>, &str)> = vec![
            (Arc::new(Cluster::new("zone", Some("a"))), "b"),
            (Arc::new(Is::new("zone", "a")), "b"),
            (Arc::new(Is::new("hostname", "h1")), "a"),
            (Arc::new(Like::new("zone", "a|c").unwrap()), "b"),
            (Arc::new(Like::new("hostname", "h[01]").unwrap()), "a"),
            (Arc::new(Unlike::new("zone", "b").unwrap()), "b"),
            (Arc::new(Unlike::new("hostname", "h2").unwrap()), "a"),
        ];
        for (hard, zone) in rules {
            let mut ledger = Ledger::new();
            let t = task("t1", "web", [hard.clone()]);
            assert_eq!(launch(&mut ledger, &t, &agent(2, zone)), broken("t1", "a2", hard.name()));
            assert_eq!(launch(&mut ledger, &t, &agent(1, "a")), Ok(()), "{}", hard.name());
        }
    }

    #[test]
    fn ledger_exclusive_refused_beside_another_group() {
        let exclusive: Arc<dyn HardConstraint> = Arc::new(Exclusive::new());
        let mut ledger = Ledger::new();
        let a1 = agent(1, "a");
        launch(&mut ledger, &task("db1", "db", []), &a1).unwrap();
        let web = task("web1", "web", [exclusive.clone()]);
        assert_eq!(launch(&mut ledger, &web, &a1), broken("web1", "a1", "EXCLUSIVE"));
        assert!(ledger.end(&"db1".into()));
        assert_eq!(launch(&mut ledger, &web, &a1), Ok(()));
        assert_eq!(launch(&mut ledger, &task("web2", "web", []), &a1), Ok(()), "its own group may join");
    }

    #[test]
    fn ledger_claimed_agent_refuses_other_groups_until_the_claim_ends() {
        let exclusive: Arc<dyn HardConstraint> = Arc::new(Exclusive::new());
        let mut ledger = Ledger::new();
        let a1 = agent(1, "a");
        launch(&mut ledger, &task("web1", "web", [exclusive]), &a1).unwrap();
        let db = task("db1", "db", []);
        let claimed = Violation::Claimed { task: "db1".into(), agent: "a1".into(), owner: "web".into() };
        assert_eq!(launch(&mut ledger, &db, &a1), Err(claimed));
        assert_eq!(launch(&mut ledger, &db, &agent(2, "a")), Ok(()), "other agents are free");
        assert!(ledger.end(&"web1".into()));
        assert_eq!(launch(&mut ledger, &task("db2", "db", []), &a1), Ok(()));
    }

    #[test]
    fn ledger_rules_count_only_the_tasks_group() {
        let unique: Arc<dyn HardConstraint> = Arc::new(Unique::new("hostname"));
        let mut ledger = Ledger::new();
        let a1 = agent(1, "a");
        launch(&mut ledger, &task("db1", "db", []), &a1).unwrap();
        assert_eq!(launch(&mut ledger, &task("web1", "web", [unique]), &a1), Ok(()));
    }

    #[test]
    fn ledger_launched_twice_refused() {
        let mut ledger = Ledger::new();
        let t1 = task("t1", "web", []);
        launch(&mut ledger, &t1, &agent(1, "a")).unwrap();
        assert_eq!(launch(&mut ledger, &t1, &agent(2, "a")), Err(Violation::LaunchedTwice("t1".into())));
        let (id, host, attrs) = agent(3, "b");
        assert_eq!(ledger.adopt(&t1, &id, &host, &attrs), Err(Violation::LaunchedTwice("t1".into())));
        assert!(ledger.end(&t1.id));
        assert!(!ledger.end(&t1.id), "ended already");
        assert_eq!(launch(&mut ledger, &t1, &agent(2, "a")), Ok(()), "a task may run again once it ended");
    }

    #[test]
    fn ledger_adopted_tasks_count_against_launches() {
        let unique: Arc<dyn HardConstraint> = Arc::new(Unique::new("zone"));
        let mut ledger = Ledger::new();
        let (id, host, attrs) = agent(1, "a");
        ledger.adopt(&task("r1", "web", []), &id, &host, &attrs).unwrap();
        let t1 = task("t1", "web", [unique]);
        assert_eq!(launch(&mut ledger, &t1, &agent(2, "a")), broken("t1", "a2", "zone:UNIQUE"));
        assert_eq!(ledger.live(), 1);
    }

    /// Adopts `tasks` (id, group, constraints, agent) unchecked and returns `check_state`.
    fn state_of(tasks: &[Adopted<'_>]) -> Result<(), Violation> {
        let mut ledger = Ledger::new();
        for (id, group, hard, (agent, host, attrs)) in tasks {
            ledger.adopt(&task(id, group, hard.iter().cloned()), agent, host, attrs).unwrap();
        }
        ledger.check_state()
    }

    #[test]
    fn ledger_state_finds_limits_broken() {
        let unique: Arc<dyn HardConstraint> = Arc::new(Unique::new("hostname"));
        let max2: Arc<dyn HardConstraint> = Arc::new(MaxPer::new("zone", NonZeroU32::new(2).unwrap()));
        let two_unique =
            [("t1", "web", vec![unique.clone()], agent(1, "a")), ("t2", "web", vec![unique.clone()], agent(1, "a"))];
        assert_eq!(state_of(&two_unique), broken("t1", "a1", "hostname:UNIQUE"));
        // A task without the rule may have joined after: not a violation by itself.
        let joined = [("t1", "web", vec![unique.clone()], agent(1, "a")), ("t2", "web", vec![], agent(1, "a"))];
        assert_eq!(state_of(&joined), Ok(()));
        let three = [
            ("t1", "web", vec![max2.clone()], agent(1, "a")),
            ("t2", "web", vec![max2.clone()], agent(2, "a")),
            ("t3", "web", vec![max2.clone()], agent(3, "a")),
        ];
        assert_eq!(state_of(&three), broken("t1", "a1", "zone:MAX_PER:2"));
        assert_eq!(state_of(&three[..2]), Ok(()));
        // The UNIQUE task may have come first, the MAX_PER:2 one second: no rule broken. A third
        // task limited to 2 or less there broke one, whatever the order.
        let unique_zone: Arc<dyn HardConstraint> = Arc::new(Unique::new("zone"));
        let mixed = [
            ("t1", "web", vec![max2.clone()], agent(1, "a")),
            ("t2", "web", vec![unique_zone], agent(2, "a")),
            ("t3", "web", vec![max2], agent(3, "a")),
        ];
        assert_eq!(state_of(&mixed[..2]), Ok(()));
        assert_eq!(state_of(&mixed), broken("t1", "a1", "zone:MAX_PER:2"));
    }

    #[test]
    fn ledger_state_finds_cluster_static_and_claims_broken() {
        let cluster: Arc<dyn HardConstraint> = Arc::new(Cluster::new("zone", None));
        let split =
            [("t1", "web", vec![cluster.clone()], agent(1, "a")), ("t2", "web", vec![cluster.clone()], agent(2, "b"))];
        assert_eq!(state_of(&split), broken("t1", "a1", "zone:CLUSTER"));
        let other_group =
            [("t1", "web", vec![cluster.clone()], agent(1, "a")), ("t2", "db", vec![cluster], agent(2, "b"))];
        assert_eq!(state_of(&other_group), Ok(()));
        let like: Arc<dyn HardConstraint> = Arc::new(Like::new("zone", "a").unwrap());
        assert_eq!(state_of(&[("t1", "web", vec![like], agent(1, "b"))]), broken("t1", "a1", "zone:LIKE:a"));
        let exclusive: Arc<dyn HardConstraint> = Arc::new(Exclusive::new());
        let shared = [("t1", "web", vec![exclusive], agent(1, "a")), ("t2", "db", vec![], agent(1, "a"))];
        let claimed = Violation::Claimed { task: "t2".into(), agent: "a1".into(), owner: "web".into() };
        assert_eq!(state_of(&shared), Err(claimed));
    }
}
