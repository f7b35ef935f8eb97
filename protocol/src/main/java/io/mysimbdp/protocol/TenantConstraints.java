package io.mysimbdp.protocol;

import com.fasterxml.jackson.annotation.JsonAlias;
import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.ArrayList;
import java.util.List;

/**
 * A tenant's batch constraints. Accepts the seed's YAML keys ({@code max_number_files},
 * {@code max_size_file_in_megabytes}, {@code format_data}) as aliases of the clearer names. A field
 * left out of a request is {@code null} and takes the platform default (see {@link #withDefaults}).
 *
 * @param maxFiles how many files the tenant may have staged or ingested at once
 * @param maxFileSizeMegabytes the largest file the tenant may upload, in MiB
 * @param formats the file formats the tenant may upload ({@link DataFormat} ids)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TenantConstraints(
    @JsonAlias("max_number_files") Integer maxFiles,
    @JsonAlias("max_size_file_in_megabytes") Long maxFileSizeMegabytes,
    @JsonAlias("format_data") @JsonFormat(with = JsonFormat.Feature.ACCEPT_SINGLE_VALUE_AS_ARRAY)
        List<String> formats) {

  public static final int MAX_FILES_LIMIT = 1_000_000;
  /** 1 TiB: beyond any file this platform is built to stage. */
  public static final long MAX_FILE_SIZE_MEGABYTES_LIMIT = 1L << 20;

  public TenantConstraints {
    if (formats != null) {
      // The seed writes a single "csv" or "csv,json"; split and normalise so both forms are one list.
      List<String> normalised = new ArrayList<>();
      for (String entry : formats) {
        if (entry == null) {
          normalised.add(null);
          continue;
        }
        for (String part : entry.split(",")) {
          if (!part.isBlank()) {
            normalised.add(part.trim().toLowerCase(java.util.Locale.ROOT));
          }
        }
      }
      formats = List.copyOf(normalised.stream().filter(f -> f != null).distinct().toList());
    }
  }

  /** The problems with these values (negative, too large, unknown format), empty when valid. */
  public List<String> problems() {
    List<String> problems = new ArrayList<>();
    if (maxFiles != null && (maxFiles < 0 || maxFiles > MAX_FILES_LIMIT)) {
      problems.add("maxFiles must be between 0 and " + MAX_FILES_LIMIT + ", was " + maxFiles);
    }
    if (maxFileSizeMegabytes != null
        && (maxFileSizeMegabytes < 1 || maxFileSizeMegabytes > MAX_FILE_SIZE_MEGABYTES_LIMIT)) {
      problems.add(
          "maxFileSizeMegabytes must be between 1 and "
              + MAX_FILE_SIZE_MEGABYTES_LIMIT
              + ", was "
              + maxFileSizeMegabytes);
    }
    if (formats != null) {
      if (formats.isEmpty()) {
        problems.add("formats must name at least one of " + DataFormat.ids());
      }
      for (String format : formats) {
        if (DataFormat.fromId(format).isEmpty()) {
          problems.add("unknown format '" + format + "'; known formats are " + DataFormat.ids());
        }
      }
    }
    return problems;
  }

  /** These constraints with every missing field taken from {@code defaults}. */
  public TenantConstraints withDefaults(TenantConstraints defaults) {
    return new TenantConstraints(
        maxFiles != null ? maxFiles : defaults.maxFiles,
        maxFileSizeMegabytes != null ? maxFileSizeMegabytes : defaults.maxFileSizeMegabytes,
        formats != null
            ? formats.stream().map(f -> DataFormat.fromId(f).map(DataFormat::id).orElse(f)).distinct().toList()
            : defaults.formats);
  }
}
