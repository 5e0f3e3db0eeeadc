package dev.slotted.orchestrator.store;

import dev.slotted.protocol.FieldError;
import dev.slotted.protocol.NewJob;
import dev.slotted.protocol.ValidationException;
import java.util.ArrayList;
import java.util.List;

/**
 * What every store checks of a submit before its transaction starts (G7: a refused submit writes
 * nothing), in one place for all stores.
 */
public final class SubmitValidation {
  private SubmitValidation() {}

  /** Why this job cannot be submitted, or null when it can. */
  public static ValidationException ofJob(NewJob job, int maxPayloadBytes) {
    if (job == null) {
      return new ValidationException("job", "must not be null");
    }
    List<FieldError> errors = job.validate(maxPayloadBytes, "");
    return errors.isEmpty() ? null : new ValidationException(errors);
  }

  /** Why this batch cannot be submitted (every bad job named by its index), or null when it can. */
  public static ValidationException ofBatch(List<NewJob> jobs, int maxPayloadBytes) {
    if (jobs == null || jobs.isEmpty()) {
      return new ValidationException("jobs", "must hold at least one job");
    }
    if (jobs.size() > JobStore.MAX_BATCH) {
      return new ValidationException("jobs",
          "at most " + JobStore.MAX_BATCH + " jobs in one batch, got " + jobs.size());
    }
    List<FieldError> errors = new ArrayList<>();
    for (int i = 0; i < jobs.size(); i++) {
      NewJob j = jobs.get(i);
      if (j == null) {
        errors.add(new FieldError("jobs[" + i + "]", "must not be null"));
      } else {
        errors.addAll(j.validate(maxPayloadBytes, "jobs[" + i + "]."));
      }
    }
    return errors.isEmpty() ? null : new ValidationException(errors);
  }
}
