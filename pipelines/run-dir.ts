/**
 * The run directory as a command sees it around a job: a new run id, whether `--out` may be used
 * (checked before the backend starts, creating nothing), and the run.json of a run to summarize
 * or to refuse (a directory that is no run). The job itself creates and writes the directory
 * (pipelines/job.ts through sinks/run-dir.ts).
 */
export { checkRunDir, newRunId, readRunJson, type RunJson } from '../sinks/run-dir.ts';
