package dev.slotted.orchestrator.store;

import java.util.Objects;

/** A lease a runner holds on a running job: the job id and the token that fences it. */
public record Lease(String jobId, String token) {
  public Lease {
    Objects.requireNonNull(jobId, "jobId");
    Objects.requireNonNull(token, "token");
  }
}
