package dev.slotted.orchestrator.http;

/** Ends request handling with a problem response (thrown inside the API's futures). */
final class ProblemException extends RuntimeException {
  private final Problem problem;

  ProblemException(Problem problem) {
    super(problem.detail(), null, false, false);
    this.problem = problem;
  }

  Problem problem() {
    return problem;
  }
}
