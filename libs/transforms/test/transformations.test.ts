// Model-dependent transformations: fitted values against hand computation,
// null handling, fit on the train split only, determinism, and identical
// batch and vector application.
import { describe, expect, it } from "vitest";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { FailedPreconditionError } from "@fti/errors";
import { ValueSchema } from "@fti/proto/fti/common/v1/types_pb";
import {
  FittedTransformationSchema,
  Imputer_Strategy,
  TransformationSchema,
  type FittedTransformation,
  type Transformation,
} from "@fti/proto/fti/registry/v1/transformations_pb";
import type { Row, Value } from "@fti/schema";
import { compileTransformations, fitTransformations, type Column, type Columns } from "../src/index.js";
import { random, violationsOf } from "./helpers.js";

type Kind = Transformation["kind"];
const transformation = (feature: string, kind: Kind, output = ""): Transformation => create(TransformationSchema, { feature, output, kind } as never);
const standard = (f: string, out = "") => transformation(f, { case: "standardScaler", value: {} } as Kind, out);
const minMax = (f: string, out = "") => transformation(f, { case: "minMaxScaler", value: {} } as Kind, out);
const robust = (f: string, lowerQuantile = 0, upperQuantile = 0, out = "") => transformation(f, { case: "robustScaler", value: { lowerQuantile, upperQuantile } } as Kind, out);
const oneHot = (f: string, maxCategories = 0, out = "") => transformation(f, { case: "oneHotEncoder", value: { maxCategories } } as Kind, out);
const label = (f: string, out = "") => transformation(f, { case: "labelEncoder", value: {} } as Kind, out);
const impute = (f: string, strategy: Imputer_Strategy, fillValue?: Value, out = "") =>
  transformation(f, { case: "imputer", value: { strategy, fillValue: fillValue === undefined ? undefined : create(ValueSchema, { kind: fillValue as never }) } } as Kind, out);
const log = (f: string, plusOne = false, out = "") => transformation(f, { case: "log", value: { plusOne } } as Kind, out);
const fixedBuckets = (f: string, boundaries: number[], out = "") => transformation(f, { case: "bucketize", value: { boundariesSource: { case: "fixed", value: { boundaries } } } } as Kind, out);
const quantileBuckets = (f: string, k: number, out = "") => transformation(f, { case: "bucketize", value: { boundariesSource: { case: "quantileBuckets", value: k } } } as Kind, out);

/** Fits one transformation on `values` of `type` and applies it to `apply` (default: the same values). */
function fitOne(t: Transformation, type: Column["type"], values: Value[], apply: Value[] = values) {
  const inputs = [{ name: t.feature, type }];
  const fitted = fitTransformations([t], inputs, { [t.feature]: values });
  const pipeline = compileTransformations(fitted, inputs);
  const out = pipeline.applyBatch({ [t.feature]: apply })[t.output || t.feature]!;
  return { fitted: fitted[0]!, params: fitted[0]!.params.value as Record<string, unknown>, out, pipeline };
}

const categoriesOf = (f: FittedTransformation) => (f.params.value as { categories: { kind: { value: unknown } }[] }).categories.map((c) => c.kind.value);

describe("fitting and applying, by hand", () => {
  it("standard scaler: population stddev; stddev 0 only centres", () => {
    const { params, out } = fitOne(standard("x"), "double", [1, 2, 3, 4, null], [1, 4, null, 2.5]);
    expect(params.mean).toBe(2.5);
    expect(params.stddev).toBeCloseTo(Math.sqrt(1.25), 15);
    expect(out).toEqual([-1.5 / Math.sqrt(1.25), 1.5 / Math.sqrt(1.25), null, 0]);
    expect(fitOne(standard("x"), "double", [5, 5], [7]).out).toEqual([2]);
  });

  it("min-max scaler: train maps to [0, 1]; a constant column to 0", () => {
    const { params, out } = fitOne(minMax("x"), "int64", [10n, 20n, 30n], [10n, 15n, 40n, null]);
    expect(params).toMatchObject({ min: 10, max: 30 });
    expect(out).toEqual([0, 0.25, 1.5, null]);
    expect(fitOne(minMax("x"), "double", [3, 3], [1, 3, 9]).out).toEqual([0, 0, 0]);
  });

  it("robust scaler: type-7 quantiles, default 0.25 / 0.75", () => {
    const { params, out } = fitOne(robust("x"), "double", [1, 2, 3, 4, 100], [3, 5]);
    expect(params).toMatchObject({ median: 3, lower: 2, upper: 4 });
    expect(out).toEqual([0, 1]);
    // h = (n − 1)·p = 3·0.1 = 0.3 → 1 + 0.3·(2 − 1); h = 3·0.9 = 2.7 → 3 + 0.7·(10 − 3).
    const custom = fitOne(robust("x", 0.1, 0.9), "double", [10, 1, 3, 2]);
    expect(custom.params.median).toBe(2.5);
    expect(custom.params.lower).toBeCloseTo(1.3, 12);
    expect(custom.params.upper).toBeCloseTo(7.9, 12);
  });

  it("one-hot: top-N by frequency, ties broken by value, vector in ascending order; unseen and null are all zeros", () => {
    const values = ["b", "a", "c", "c", "b", "d", "a", null, "c"];
    const { fitted, out, pipeline } = fitOne(oneHot("city", 2), "string", values, ["a", "b", "c", "zzz", null]);
    // c: 3, then a and b tie at 2 → a (smaller) wins; vector order ascending: [a, c].
    expect(categoriesOf(fitted)).toEqual(["a", "c"]);
    expect(out.map((v) => [...(v as Float32Array)])).toEqual([[1, 0], [0, 0], [0, 1], [0, 0], [0, 0]]);
    expect(pipeline.columns).toEqual([{ name: "city", type: { embedding: 2 } }]);
    expect(categoriesOf(fitOne(oneHot("city"), "string", values).fitted)).toEqual(["a", "b", "c", "d"]);
  });

  it("label encoder: sorted categories get 0, 1, …; unseen and null get -1", () => {
    const { fitted, out, pipeline } = fitOne(label("n", "n_code"), "int32", [30, 10, 20, 10], [10, 20, 30, 40, null]);
    expect(categoriesOf(fitted)).toEqual([10, 20, 30]);
    expect(out).toEqual([0n, 1n, 2n, -1n, -1n]);
    expect(pipeline.columns).toEqual([{ name: "n", type: "int32" }, { name: "n_code", type: "int64" }]);
    const dates = fitOne(label("t"), "timestamp", [new Date(2000), new Date(1000), new Date(2000)], [new Date(2000), new Date(3000)]);
    expect(dates.out).toEqual([1n, -1n]);
  });

  it("imputer: mean, median, most frequent and constant fill nulls (and NaN) only", () => {
    expect(fitOne(impute("x", Imputer_Strategy.MEAN), "double", [1, 2, 6, null, Number.NaN]).out).toEqual([1, 2, 6, 3, 3]);
    expect(fitOne(impute("x", Imputer_Strategy.MEDIAN), "double", [1, 2, 6, 10, null]).out).toEqual([1, 2, 6, 10, 4]);
    // Integer columns keep their type: the mean 2.5 rounds half away from zero.
    expect(fitOne(impute("x", Imputer_Strategy.MEAN), "int64", [1n, 4n, null]).out).toEqual([1n, 4n, 3n]);
    expect(fitOne(impute("x", Imputer_Strategy.MEDIAN), "int32", [-1, -4, null]).out).toEqual([-1, -4, -3]);
    expect(fitOne(impute("s", Imputer_Strategy.MOST_FREQUENT), "string", ["b", "a", "b", "a", null]).out).toEqual(["b", "a", "b", "a", "a"]);
    const constant = fitOne(impute("s", Imputer_Strategy.CONSTANT, { case: "stringValue", value: "unknown" } as never), "string", [null, "x"]);
    expect(constant.out).toEqual(["unknown", "x"]);
    expect(constant.fitted.params.case).toBeUndefined();
    // A numeric constant converts into the column's numeric type.
    expect(fitOne(impute("x", Imputer_Strategy.CONSTANT, { case: "doubleValue", value: 0 } as never), "int64", [null]).out).toEqual([0n]);
  });

  it("log: ln(x) or ln(1 + x), null outside the domain", () => {
    expect(fitOne(log("x"), "double", [Math.E, 1, 0, -1, null]).out).toEqual([1, 0, null, null, null]);
    expect(fitOne(log("x", true), "int32", [0, -1, -2, Math.E - 1]).out).toEqual([0, null, null, 1]);
  });

  it("bucketize: fixed boundaries [b0, b1) …, below b0 is 0, at or above the last is n", () => {
    const { fitted, out } = fitOne(fixedBuckets("x", [0, 10, 20]), "double", [-5, 0, 9.99, 10, 20, 1e9, null]);
    expect(out).toEqual([0, 1, 1, 2, 3, 3, null]);
    expect(fitted.params.case).toBeUndefined();
  });

  it("bucketize: quantile boundaries, equal ones merged", () => {
    const values = Array.from({ length: 101 }, (_, i) => i); // 0..100
    const { params, out } = fitOne(quantileBuckets("x", 4), "int32", values, [0, 24, 25, 50, 74.9, 75, 100]);
    expect(params.boundaries).toEqual([25, 50, 75]);
    expect(out).toEqual([0, 0, 1, 2, 2, 3, 3]);
    expect(fitOne(quantileBuckets("x", 4), "double", [1, 1, 1, 1, 2, 3]).params.boundaries).toEqual([1, 1.75]);
  });
});

describe("chains", () => {
  it("run in order: an imputer before a scaler feeds it, and outputs add columns", () => {
    const inputs: Column[] = [{ name: "x", type: "double" }, { name: "city", type: "string" }];
    const train: Columns = { x: [0, null, 4, 8], city: ["a", "b", "a", null] };
    const fitted = fitTransformations([impute("x", Imputer_Strategy.MEAN), minMax("x", "x_scaled"), label("city")], inputs, train);
    // The imputed 4 is part of what the scaler saw: min 0, max 8.
    expect(fitted[1]!.params.value).toMatchObject({ min: 0, max: 8 });
    const pipeline = compileTransformations(fitted, inputs);
    expect(pipeline.columns).toEqual([{ name: "x", type: "double" }, { name: "city", type: "int64" }, { name: "x_scaled", type: "double" }]);
    expect(pipeline.applyVector({ x: null, city: "b" })).toEqual({ x: 4, city: 1n, x_scaled: 0.5 });
  });
});

describe("fit on the train split only", () => {
  const inputs: Column[] = [{ name: "amount", type: "double" }, { name: "merchant", type: "string" }];
  const transformations = [
    impute("amount", Imputer_Strategy.MEDIAN, undefined, "amount_filled"),
    standard("amount_filled", "amount_std"),
    minMax("amount", "amount_mm"),
    robust("amount", 0, 0, "amount_robust"),
    quantileBuckets("amount", 5, "amount_bucket"),
    oneHot("merchant", 3, "merchant_1h"),
    label("merchant", "merchant_code"),
  ];
  const next = random(42);
  const rows = Array.from({ length: 1000 }, (_, i) => ({
    amount: next() < 0.1 ? null : Math.round(next() * 1000) / 10 + (i % 2 === 0 ? 0 : 500), // the test half is shifted
    merchant: `m${Math.floor(next() * 6) + (i % 2 === 0 ? 0 : 3)}`,
  }));
  const toColumns = (rs: typeof rows): Columns => ({ amount: rs.map((r) => r.amount), merchant: rs.map((r) => r.merchant) });
  const train = rows.filter((_, i) => i % 2 === 0);
  const test = rows.filter((_, i) => i % 2 === 1);

  it("parameters come from the train rows alone and apply to the test rows unchanged", () => {
    const fitted = fitTransformations(transformations, inputs, toColumns(train));
    const refit = fitTransformations(transformations, inputs, toColumns([...train, ...test]));
    expect(fitted.map((f) => toBinary(FittedTransformationSchema, f))).not.toEqual(refit.map((f) => toBinary(FittedTransformationSchema, f)));
    const trainAmounts = train.flatMap((r) => (r.amount === null ? [] : [r.amount]));
    expect(fitted[2]!.params.value).toMatchObject({ min: Math.min(...trainAmounts), max: Math.max(...trainAmounts) });

    const applied = compileTransformations(fitted, inputs).applyBatch(toColumns(test));
    // The test half sits above the train range, so min-max goes beyond 1, and
    // its unseen merchants (m6..m8) encode as -1 / all zeros.
    expect(Math.min(...(applied.amount_mm!.filter((v) => v !== null) as number[]))).toBeGreaterThan(1);
    expect(applied.merchant_code!.filter((v) => v === -1n).length).toBe(test.filter((r) => r.merchant >= "m6").length);
    expect(applied.amount_bucket!.every((v) => v === null || v === 4)).toBe(true);
    // Applying changes no parameter: the same fitted list gives the same answer again.
    expect(compileTransformations(fitted, inputs).applyBatch(toColumns(test))).toEqual(applied);
  });

  it("fitting does not depend on row order, and survives the proto round trip", () => {
    const shuffled = [...train];
    const next2 = random(3);
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(next2() * (i + 1));
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    const a = fitTransformations(transformations, inputs, toColumns(train)).map((f) => toBinary(FittedTransformationSchema, f));
    const b = fitTransformations(transformations, inputs, toColumns(shuffled)).map((f) => toBinary(FittedTransformationSchema, f));
    expect(b).toEqual(a);
    const stored = a.map((bytes) => fromBinary(FittedTransformationSchema, bytes));
    const original = fitTransformations(transformations, inputs, toColumns(train));
    expect(compileTransformations(stored, inputs).applyBatch(toColumns(test))).toEqual(compileTransformations(original, inputs).applyBatch(toColumns(test)));
  });

  it("batch and vector application agree on random inputs", () => {
    const pipeline = compileTransformations(fitTransformations(transformations, inputs, toColumns(train)), inputs);
    const next3 = random(11);
    const probe: Row[] = Array.from({ length: 3000 }, () => ({
      amount: next3() < 0.15 ? null : next3() < 0.05 ? Number.NaN : (next3() - 0.2) * 2000,
      merchant: next3() < 0.1 ? null : `m${Math.floor(next3() * 12)}`,
    }));
    const columns: Columns = { amount: probe.map((r) => r.amount!), merchant: probe.map((r) => r.merchant!) };
    const batch = pipeline.applyBatch(columns);
    const vectors = probe.map((r) => pipeline.applyVector(r));
    for (const c of pipeline.columns) expect(batch[c.name]).toEqual(vectors.map((v) => v[c.name]));
    expect(new Set(batch.amount_std!.map(String)).size).toBeGreaterThan(1000);
  });
});

describe("bad input", () => {
  const inputs: Column[] = [{ name: "x", type: "double" }, { name: "s", type: "string" }, { name: "e", type: { embedding: 2 } }];
  const data: Columns = { x: [1, 2], s: ["a", "b"], e: [new Float32Array(2), new Float32Array(2)] };

  it("names the field of every bad transformation", () => {
    const v = violationsOf(() =>
      fitTransformations(
        [
          standard("s", "s_std"),
          robust("x", 0.8, 0.2),
          fixedBuckets("x", [1, 1]),
          quantileBuckets("x", 1),
          impute("s", Imputer_Strategy.MEAN),
          impute("x", Imputer_Strategy.UNSPECIFIED),
          impute("x", Imputer_Strategy.CONSTANT, { case: "stringValue", value: "0" } as never),
          label("nope"),
          oneHot("e"),
          minMax("x", "s"),
        ],
        inputs,
        data,
      ),
    );
    expect(v.map((x) => x.field)).toEqual([
      "feature_view.transformations[0].feature",
      "feature_view.transformations[1].robust_scaler.upper_quantile",
      "feature_view.transformations[2].bucketize.fixed.boundaries",
      "feature_view.transformations[3].bucketize.quantile_buckets",
      "feature_view.transformations[4].feature",
      "feature_view.transformations[5].imputer.strategy",
      "feature_view.transformations[6].imputer.fill_value",
      "feature_view.transformations[7].feature",
      "feature_view.transformations[8].feature",
      "feature_view.transformations[9].output",
    ]);
    expect(v[0]!.description).toBe('standard_scaler needs a numeric column; "s" has type string');
  });

  it("fails clearly when the train split has no value to fit", () => {
    expect(() => fitTransformations([standard("x")], inputs, { x: [null, Number.NaN] })).toThrow(FailedPreconditionError);
    expect(() => fitTransformations([standard("x")], inputs, { x: [null] })).toThrow(/transformations\[0\] \(standard_scaler of "x"\) cannot be fitted/);
    // Nothing to fit: fine on an empty split.
    expect(fitTransformations([log("x"), fixedBuckets("x", [0])], inputs, { x: [] })).toHaveLength(2);
  });

  it("refuses stored parameters that do not match", () => {
    const fitted = fitTransformations([standard("x"), label("s")], inputs, data);
    const wrong = create(FittedTransformationSchema, { transformation: fitted[0]!.transformation, params: fitted[1]!.params });
    expect(violationsOf(() => compileTransformations([wrong], inputs))[0]!.field).toBe("training_dataset.transformations[0].params");
    expect(violationsOf(() => compileTransformations([fitted[0]!], [{ name: "x", type: "string" }]))[0]!.field).toBe("training_dataset.transformations[0].transformation.feature");
  });
});
