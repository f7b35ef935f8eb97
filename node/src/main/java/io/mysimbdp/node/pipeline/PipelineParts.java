package io.mysimbdp.node.pipeline;

import io.mysimbdp.node.functions.CategoryFunctions;

/**
 * What the batch and stream pipelines of every tenant on a node share: the category's function and
 * quality rules, where tenant functions run, the record writer and the dead-letter store. The node
 * makes one and hands it down to the workers that run pipelines.
 */
public record PipelineParts(CategoryFunctions categories, FunctionExecutor functionExecutor, RecordWriter writer, DeadLetters deadLetters) {}
