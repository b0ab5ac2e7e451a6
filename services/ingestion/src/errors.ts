// The one ingestion-specific error: a batch rejected by its expectations under
// the STRICT policy. FAILED_PRECONDITION whose status details carry the whole
// ValidationReport (failing expectations and sample rows), as the proto says.
import { create } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import { PreconditionFailureSchema } from "@fti/proto/google/rpc/error_details_pb";
import { FailedPreconditionError } from "@fti/errors";
import { ValidationReportSchema, type ValidationReport } from "@fti/proto/fti/ingestion/v1/ingestion_pb";
import { failedExpectations } from "./expectations.js";

export class ExpectationsFailedError extends FailedPreconditionError {
  constructor(
    readonly featureGroup: string,
    readonly report: ValidationReport,
  ) {
    const failed = failedExpectations(report);
    super(
      `the batch fails expectation${failed.length === 1 ? "" : "s"} ${failed.join(", ")} of ${featureGroup} (policy STRICT); nothing was written`,
      report.results.filter((r) => !r.success).map((r) => ({ type: "EXPECTATION", subject: r.expectation, description: r.message })),
    );
  }
  override toConnectError(): ConnectError {
    return new ConnectError(this.message, this.code, undefined, [
      { desc: PreconditionFailureSchema, value: create(PreconditionFailureSchema, { violations: this.violations }) },
      { desc: ValidationReportSchema, value: this.report },
    ]);
  }
}
