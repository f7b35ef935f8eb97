package io.mysimbdp.node.entity;

import io.mysimbdp.node.functions.CategoryFunctions;
import io.mysimbdp.node.pipeline.DeadLetters;
import io.mysimbdp.node.pipeline.FunctionExecutor;
import io.mysimbdp.node.pipeline.PipelineParts;
import io.mysimbdp.node.pipeline.RecordWriter;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.Extension;
import akka.actor.typed.ExtensionId;
import com.typesafe.config.Config;
import io.mysimbdp.functions.FunctionFactory;
import io.mysimbdp.functions.sandbox.GuardedFunction;
import io.mysimbdp.functions.sandbox.SandboxLimits;
import io.mysimbdp.functions.spi.FunctionRegistry;
import io.mysimbdp.node.functions.FunctionStore;
import java.time.Duration;
import io.mysimbdp.node.batch.BatchIngestor;
import io.mysimbdp.node.batch.FileIngestion;
import io.mysimbdp.node.batch.IngestionJobs;
import io.mysimbdp.node.batch.StagingStore;
import io.mysimbdp.node.NodeSettings;
import io.mysimbdp.node.coredms.CoreDms;

/**
 * What every tenant's ingestion work shares on a node: the record writer, the dead-letter store,
 * the category-to-function mapping (with tenant functions and quality rules) and the settings. Entities reach it from their system.
 */
public final class IngestionServices implements Extension {

  public static final ExtensionId<IngestionServices> ID =
      new ExtensionId<>() {
        @Override
        public IngestionServices createExtension(ActorSystem<?> system) {
          return new IngestionServices(system);
        }
      };

  public static IngestionServices get(ActorSystem<?> system) {
    return system.registerExtension(ID);
  }

  private final NodeSettings settings;
  private final CoreDms coreDms;
  private final RecordWriter writer;
  private final DeadLetters deadLetters;
  private final CategoryFunctions categories;
  private final FunctionExecutor functionExecutor;
  private final FunctionStore functionStore;
  private final StagingStore staging;
  private final BatchIngestor.Dependencies batch;

  private IngestionServices(ActorSystem<?> system) {
    this.settings = NodeSettings.from(system.settings().config());
    this.coreDms = CoreDms.get(system);
    this.writer = new RecordWriter(coreDms);
    this.deadLetters = new DeadLetters(coreDms);
    Config ingestion = system.settings().config().getConfig("mysimbdp.ingestion");
    java.util.Map<String, String> byCategory = new java.util.HashMap<>();
    if (ingestion.hasPath("category-functions")) {
      ingestion.getConfig("category-functions").entrySet().forEach(e -> byCategory.put(stripQuotes(e.getKey()), e.getValue().unwrapped().toString()));
    }
    boolean unmappedToIdentity = !ingestion.hasPath("unmapped-categories") || ingestion.getString("unmapped-categories").equals("identity");
    this.functionStore = new FunctionStore(coreDms);
    Config functionsConfig = system.settings().config().getConfig("mysimbdp.functions");
    SandboxLimits limits = SandboxLimits.DEFAULT
        .withTimeout(functionsConfig.getDuration("record-timeout"))
        .withWallClockTimeout(functionsConfig.getDuration("record-wall-clock-timeout"))
        .withMaxAllocatedBytes(functionsConfig.getBytes("record-allocation"));
    GuardedFunction.Policy policy = new GuardedFunction.Policy(
        functionsConfig.getInt("disable-after-failures"), functionsConfig.getInt("disable-after-violations"),
        GuardedFunction.Policy.DEFAULT.batchBudget());
    Config executorConfig = functionsConfig.getConfig("executor");
    this.functionExecutor = new FunctionExecutor(new FunctionExecutor.Settings(
        executorConfig.getInt("threads"), executorConfig.getInt("per-tenant"),
        executorConfig.getInt("queue-per-tenant"), executorConfig.getInt("chunk")));
    system.getWhenTerminated().thenRun(functionExecutor::close);
    this.categories =
        new CategoryFunctions(
            FunctionRegistry.withBuiltins(),
            functionStore,
            new FunctionFactory(limits, policy),
            new CategoryFunctions.Settings(
                functionsConfig.getDuration("cache-ttl"), functionsConfig.getInt("cache-entries")),
            byCategory,
            unmappedToIdentity);
    Duration flushEvery = functionsConfig.getDuration("quality-flush-interval");
    system.scheduler().scheduleWithFixedDelay(flushEvery, flushEvery, () -> categories.flushQuality(), system.executionContext());
    this.staging = new StagingStore(coreDms);
    IngestionJobs jobs = new IngestionJobs(coreDms);
    Config batchConfig = system.settings().config().getConfig("mysimbdp.batch");
    FileIngestion.Settings batchSettings =
        new FileIngestion.Settings(
            batchConfig.getInt("batch-size"),
            batchConfig.getDuration("batch-window"),
            batchConfig.getInt("write-parallelism"),
            batchConfig.getDuration("checkpoint-interval"),
            batchConfig.getInt("write-attempts"),
            (int) Math.min(Integer.MAX_VALUE, batchConfig.getBytes("max-record-bytes")),
            batchConfig.getBytes("max-bytes-in-flight"));
    this.batch =
        new BatchIngestor.Dependencies(
            jobs, staging,
            new FileIngestion(system, staging, jobs, writer, deadLetters, categories, functionExecutor, batchSettings));
  }

  private static String stripQuotes(String key) {
    return key.length() > 1 && key.startsWith("\"") && key.endsWith("\"") ? key.substring(1, key.length() - 1) : key;
  }

  public StagingStore staging() {
    return staging;
  }

  public BatchIngestor.Dependencies batch() {
    return batch;
  }

  public NodeSettings settings() {
    return settings;
  }

  public CoreDms coreDms() {
    return coreDms;
  }

  public RecordWriter writer() {
    return writer;
  }

  public DeadLetters deadLetters() {
    return deadLetters;
  }

  public FunctionStore functionStore() {
    return functionStore;
  }

  public CategoryFunctions categories() {
    return categories;
  }

  /** What every tenant's batch and stream pipelines share on this node. */
  public PipelineParts pipelineParts() {
    return new PipelineParts(categories, functionExecutor, writer, deadLetters);
  }

  /** Where tenant functions run (never on Akka's dispatchers), fairly shared between tenants. */
  public FunctionExecutor functionExecutor() {
    return functionExecutor;
  }
}
