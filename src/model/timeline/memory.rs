//! Bounding the memory of runs kept: a run's task-level events can be dropped while its
//! figures stay, so a long session keeps every summary.

use super::Timeline;

impl Timeline {
    /// How many records the run holds: a task each (pending or not), and every scheduler
    /// sample and GIL span of its lanes. What a bound on the memory of runs kept counts:
    /// a run of few long tasks sampled every 10 ms holds far more samples than tasks.
    pub fn records_held(&self) -> usize {
        self.experiments
            .iter()
            .map(|e| {
                e.tasks_held()
                    + e.lanes
                        .iter()
                        .map(|l| l.samples.len() + l.gil.len())
                        .sum::<usize>()
            })
            .sum()
    }

    /// Forgets every task's own record, every span and sample, keeping each experiment's
    /// figures (makespan, CPU time, counts, scheduler totals): what a kept run needs for its
    /// summary when memory must be bounded. Its charts are empty after this.
    pub fn drop_task_events(&mut self) {
        self.revision += 1;
        for e in &mut self.experiments {
            e.drop_tasks();
            for lane in &mut e.lanes {
                lane.spans = Vec::new();
                lane.samples = Vec::new();
                lane.gil = Vec::new();
                lane.identities = Vec::new();
            }
        }
    }
}
