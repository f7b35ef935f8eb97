package io.mysimbdp.functions.builtin;

import io.mysimbdp.functions.sandbox.LimitExceededException;
import io.mysimbdp.functions.spi.FunctionContext;
import io.mysimbdp.functions.spi.FunctionException;
import io.mysimbdp.functions.spi.IngestionFunction;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Applies functions in sequence: every record a step produces goes through the next step (so a
 * filter step drops, a split step multiplies). Config (built by the factory):
 *
 * <pre>{@code
 * {"steps": [
 *   {"builtin": "coerce", "config": {"fields": {"result": "number"}}},
 *   {"cel": "record.result > 0.0"},                 // a filter
 *   {"jsonata": "{'value': result}"},               // a sandboxed transform
 *   {"builtin": "nest"}]}
 * }</pre>
 *
 * A failing step fails the record with the step's number and name in the message.
 */
public final class PipelineFunction implements IngestionFunction {
  public static final String NAME = "pipeline";

  private final List<IngestionFunction> steps;
  private final List<String> names;

  public PipelineFunction(List<IngestionFunction> steps, List<String> names) {
    if (steps.size() != names.size()) {
      throw new IllegalArgumentException("one name per step");
    }
    this.steps = List.copyOf(steps);
    this.names = List.copyOf(names);
  }

  public static PipelineFunction of(IngestionFunction... steps) {
    List<String> names = new ArrayList<>();
    for (IngestionFunction f : steps) {
      names.add(f.getClass().getSimpleName());
    }
    return new PipelineFunction(List.of(steps), names);
  }

  public List<IngestionFunction> steps() {
    return steps;
  }

  @Override
  public List<Map<String, Object>> apply(Map<String, Object> record, FunctionContext context)
      throws FunctionException {
    List<Map<String, Object>> current = List.of(record);
    for (int i = 0; i < steps.size(); i++) {
      IngestionFunction step = steps.get(i);
      List<Map<String, Object>> next =
          current.size() == 1 ? null : new ArrayList<>(current.size());
      for (Map<String, Object> r : current) {
        List<Map<String, Object>> out;
        try {
          out = step.apply(r, context);
        } catch (LimitExceededException e) {
          throw new LimitExceededException(e.limit(), prefix(i) + e.getMessage());
        } catch (FunctionException e) {
          throw new FunctionException(prefix(i) + e.getMessage(), e);
        }
        if (next == null) {
          next = out;
        } else {
          next.addAll(out);
        }
      }
      current = next;
      if (current.isEmpty()) {
        return List.of();
      }
    }
    return current;
  }

  private String prefix(int step) {
    return "step " + (step + 1) + " (" + names.get(step) + "): ";
  }
}
