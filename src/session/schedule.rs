//! The scheduling pass: run the engine over the pool, turn the plan into ACCEPTs and DECLINEs,
//! and keep SUPPRESS/REVIVE in step with whether anything is pending.

use std::time::Duration;

use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};

use super::calls;
use super::carve::Carver;
use super::groups;
use super::machine::Session;
use super::tasks::Phase;
use super::update::{PassReport, Update, Warning};
use super::Run;
use crate::model::{AgentId, OfferId};
use crate::plan::Accept;
use crate::preempt::PreemptionInput;

impl Session {
    /// One pass: launches, declines, offer bookkeeping, suppression.
    pub(super) fn run_pass(&mut self, now: Duration) {
        self.schedule_at = None;
        if !self.is_subscribed() {
            return;
        }
        if self.config.dry_run {
            return self.dry_pass(now);
        }
        if self.lookup_pending() {
            // Where some running tasks are is being asked: place nothing until the answer;
            // offers are held (those that expire are declined).
            let expired: Vec<OfferId> = self.scheduler.expire(now).into_iter().map(|o| o.id).collect();
            if !expired.is_empty() {
                expired.iter().for_each(|id| drop(self.offers.remove(id)));
                self.send(calls::decline(self.fw(), &expired, self.config.refuse_seconds));
            }
            return;
        }
        self.tasks.wake(now);
        self.sync_running();
        let mut pending = self.tasks.pending_specs();
        let mut places = self.config.queue.as_ref().map(|_| self.tasks.pending_places());
        self.hold_preemptors(&mut pending, places.as_mut(), now);
        self.hold_gangs(&mut pending, places.as_mut());
        if pending.is_empty() {
            // Nothing to place: no engine pass just to hand the offers back (the plan would
            // decline each one); the hints still see the idle agents.
            let hints = self.idle_hints(now);
            self.decline_all(now);
            if let Some(hints) = hints {
                self.report_hints(hints, now);
            }
            self.forget_unused_agents();
            self.adjust_suppression();
            return;
        }
        let dying = if self.config.preemption.is_some() { self.dying() } else { Vec::new() };
        let queue = self.config.queue.as_ref().zip(places.as_deref()).map(|(config, places)| (places, config));
        let planned = match (queue, &self.config.preemption) {
            (queue, Some(budgets)) => {
                let input = PreemptionInput { budgets, dying: &dying };
                self.scheduler.schedule_preempting(&pending, queue, input, now)
            }
            (Some((places, config)), None) => self.scheduler.schedule_queued(&pending, places, config, now),
            (None, None) => self.scheduler.schedule(&pending, now),
        };
        match planned {
            Ok(plan) => {
                let hints = self.pass_hints(&pending, &plan, now);
                let mut report = PassReport::of_plan(&plan, &pending);
                let single = groups::planned_gangs(&plan, |id| self.tasks.request(id)?.spec.gang.clone());
                for accept in plan.accepts() {
                    let offers = accept.offer_ids.len() as u32;
                    if self.launch(&accept, &single, now) {
                        report.accept_calls += 1;
                        report.offers_accepted += offers;
                    } else {
                        report.offers_declined += offers;
                    }
                }
                let sent = |l: &&crate::plan::Launch| matches!(self.tasks.phase(&l.task_id), Some(Phase::Launching(_)));
                report.launched =
                    plan.launches.iter().filter(sent).map(|l| (l.task_id.clone(), l.agent_id.clone())).collect();
                report.preempting = self.start_preemptions(&plan);
                let declined: Vec<&OfferId> = plan.declined.iter().chain(&plan.expired).collect();
                if !declined.is_empty() {
                    report.offers_declined += declined.len() as u32;
                    self.send(calls::decline(self.fw(), declined, self.config.refuse_seconds));
                }
                self.updates.push_back(Update::Pass(report));
                if let Some(hints) = hints {
                    self.report_hints(hints, now);
                }
                for id in plan.consumed_offer_ids() {
                    self.offers.remove(id);
                }
                // The scheduler counts every placed task as running; those the carver skipped
                // are pending still, and the next sync takes them back out.
                self.tasks.touch(plan.launches.iter().map(|l| l.task_id.clone()));
            }
            // Offers stay in the pool and are declined when they expire.
            Err(error) => self.updates.push_back(Update::Warning(Warning::PlanFailed(error.to_string()))),
        }
        self.forget_unused_agents();
        self.adjust_suppression();
    }

    /// Declines every offer held, in one call, as a pass without pending tasks would.
    fn decline_all(&mut self, now: Duration) {
        let mut report = PassReport::default();
        report.stats.agents_considered = self.scheduler.pool().agents_at(now).count() as u32;
        let mut declined: Vec<OfferId> = self.scheduler.clear_offers(now).into_iter().map(|o| o.id).collect();
        if !declined.is_empty() {
            declined.sort();
            for id in &declined {
                self.offers.remove(id);
            }
            report.offers_declined = declined.len() as u32;
            self.send(calls::decline(self.fw(), &declined, self.config.refuse_seconds));
        }
        self.updates.push_back(Update::Pass(report));
    }

    /// Drops the records of agents with neither offers held nor tasks of this framework, once
    /// the book has grown to twice what the last sweep kept: the sweep reads every live task,
    /// so it runs amortized, not after every pass.
    fn forget_unused_agents(&mut self) {
        if self.agents.len() < 2 * self.agents_kept.max(512) {
            return;
        }
        // Hashed, not sorted: this reads every live task.
        let offered: Vec<AgentId> = self.offers.values().map(|o| AgentId::new(&o.agent_id.value)).collect();
        let mut needed: FxHashSet<&AgentId> = self.tasks.live_agents().collect();
        needed.extend(&offered);
        self.agents.retain(|id| needed.contains(id));
        self.agents_kept = self.agents.len();
    }

    /// One ACCEPT for one agent's launches (or a DECLINE if none could be built); returns
    /// whether it was an ACCEPT. The members of a gang in `single` on this agent form one
    /// `LAUNCH_GROUP`, launched only if every one of them could be carved.
    fn launch(&mut self, accept: &Accept<'_>, single: &FxHashSet<Arc<str>>, now: Duration) -> bool {
        let mut carver = Carver::new(accept.offer_ids.iter().filter_map(|id| self.offers.get(id)));
        let mut infos = Vec::new();
        let mut launched = Vec::new();
        let mut task_groups = groups::Groups::default();
        let mut expected: FxHashMap<Arc<str>, usize> = FxHashMap::default();
        for launch in &accept.launches {
            let Some(request) = self.tasks.request(&launch.task_id) else {
                continue;
            };
            let grouped =
                request.spec.gang.clone().filter(|g| single.contains(g) && matches!(request.run, Run::Command(_)));
            if let Some(gang) = &grouped {
                *expected.entry(gang.clone()).or_default() += 1;
            }
            match carver.take_with_executor(launch) {
                Ok((resources, executor_resources)) => {
                    let ports: Vec<u16> = launch.ports.iter().map(|(port, _)| *port).collect();
                    let mesos = self.tasks.mesos_id(&launch.task_id);
                    if let Some(gang) = &grouped {
                        let info =
                            calls::task_info(self.fw(), &request, &mesos, &launch.agent_id, resources, &ports, None);
                        let executor = || self.gang_executor(gang, &launch.agent_id, executor_resources);
                        task_groups.add(gang, executor, launch.task_id.clone(), info);
                        continue;
                    }
                    let executor = self.executor_info(&request, &launch.agent_id, executor_resources);
                    let info =
                        calls::task_info(self.fw(), &request, &mesos, &launch.agent_id, resources, &ports, executor);
                    infos.push(info);
                    launched.push(launch.task_id.clone());
                }
                Err(reason) => {
                    let warning = Warning::LaunchSkipped { task_id: launch.task_id.clone(), reason };
                    self.updates.push_back(Update::Warning(warning));
                }
            }
        }
        let mut operations = Vec::new();
        if !infos.is_empty() {
            operations.push(calls::launch(infos));
        }
        if !task_groups.is_empty() {
            let (whole, dropped) = task_groups.into_whole(&expected);
            for task_id in dropped {
                let reason = "another member of its task group could not be carved".to_owned();
                self.updates.push_back(Update::Warning(Warning::LaunchSkipped { task_id, reason }));
            }
            for (executor, tasks) in whole {
                let (ids, tasks): (Vec<_>, Vec<_>) = tasks.into_iter().unzip();
                launched.extend(ids);
                operations.push(calls::launch_group(executor, tasks));
            }
        }
        if operations.is_empty() {
            self.send(calls::decline(self.fw(), accept.offer_ids, self.config.refuse_seconds));
            return false;
        }
        let call =
            self.send(calls::accept_operations(self.fw(), accept.offer_ids, operations, self.config.refuse_seconds));
        for task in launched {
            if let Some(update) = self.tasks.launched(&task, accept.agent_id, call, now) {
                self.push_task(update);
            }
        }
        true
    }

    /// The `ExecutorInfo` for a task of a custom executor on `agent`: the one the executor runs
    /// with if this session launched it there, else a new one holding `carved` (the executor's
    /// share of the offers). The engine knows an executor runs on an agent from its tasks and
    /// from the offers' `executor_ids`; should it charge one that still runs (a master that does
    /// not list executors in offers), the launch names the running one, and the master returns
    /// what was carved for it with the offers' unused resources.
    fn executor_info(
        &mut self,
        request: &super::TaskRequest,
        agent: &AgentId,
        carved: Option<Vec<crate::mesos::v1::Resource>>,
    ) -> Option<crate::mesos::v1::ExecutorInfo> {
        let super::Run::Executor(spec) = &request.run else { return None };
        let key = (agent.clone(), spec.executor_id.clone());
        if let Some(running) = self.executors.get(&key) {
            return Some(running.clone());
        }
        let info = spec.to_proto(self.fw(), carved.unwrap_or_default());
        self.executors.insert(key, info.clone());
        Some(info)
    }

    /// The default executor of `gang`'s task group on `agent`: the one it runs with if this
    /// session started it there, else a new one holding `carved`.
    fn gang_executor(
        &mut self,
        gang: &str,
        agent: &AgentId,
        carved: Option<Vec<crate::mesos::v1::Resource>>,
    ) -> crate::mesos::v1::ExecutorInfo {
        let key = (agent.clone(), super::gang_executor_id(gang));
        if let Some(running) = self.executors.get(&key) {
            return running.clone();
        }
        let info = groups::default_executor(self.fw(), gang, carved.unwrap_or_default());
        self.executors.insert(key, info.clone());
        info
    }

    /// SUPPRESS when nothing is pending or in flight; REVIVE when something is pending and
    /// either offers are suppressed or a task became pending since the last pass and this pass
    /// could not place it (the master may be holding resources back behind the refuse filters
    /// of earlier declines; REVIVE clears them).
    fn adjust_suppression(&mut self) {
        let pending = self.tasks.has_pending();
        let fresh = self.tasks.take_fresh_pending();
        if pending && (self.suppressed || fresh) {
            self.suppressed = false;
            self.send(calls::revive(self.fw()));
        } else if !pending && !self.suppressed && self.tasks.launching() == 0 {
            self.suppressed = true;
            self.send(calls::suppress(self.fw()));
        }
    }
}
