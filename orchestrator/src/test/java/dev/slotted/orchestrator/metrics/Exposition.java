package dev.slotted.orchestrator.metrics;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A parsed Prometheus text exposition (format 0.0.4), strict enough to catch broken output. */
record Exposition(Map<String, String> types, List<Sample> samples) {

  private static final Pattern TYPE = Pattern.compile("# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\\w+)");
  private static final Pattern SAMPLE = Pattern.compile(
      "([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)})? (-?[0-9.]+(?:E-?[0-9]+)?|NaN|[+-]Inf)");
  private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

  record Sample(String name, Map<String, String> labels, double value) {}

  static Exposition parse(String text) {
    Map<String, String> types = new LinkedHashMap<>();
    List<Sample> samples = new ArrayList<>();
    for (String line : text.split("\n")) {
      if (line.isEmpty() || line.startsWith("# HELP ")) {
        continue;
      }
      Matcher type = TYPE.matcher(line);
      if (type.matches()) {
        types.put(type.group(1), type.group(2));
        continue;
      }
      Matcher sample = SAMPLE.matcher(line);
      if (!sample.matches()) {
        throw new AssertionError("not a valid exposition line: [" + line + "]");
      }
      samples.add(new Sample(sample.group(1), labels(sample.group(2), line),
          Double.parseDouble(sample.group(3).replace("+Inf", "Infinity").replace("-Inf", "-Infinity"))));
    }
    return new Exposition(types, samples);
  }

  private static Map<String, String> labels(String body, String line) {
    Map<String, String> labels = new LinkedHashMap<>();
    if (body == null || body.isEmpty()) {
      return labels;
    }
    Matcher m = LABEL.matcher(body);
    int end = 0;
    while (m.find() && m.start() == end) {
      labels.put(m.group(1), m.group(2));
      end = m.end();
      if (end < body.length() && body.charAt(end) == ',') {
        end++;
      }
    }
    if (end != body.length()) {
      throw new AssertionError("bad labels in [" + line + "]");
    }
    return labels;
  }

  List<Sample> named(String name) {
    return samples.stream().filter(s -> s.name().equals(name)).toList();
  }

  /** The value of the one sample with exactly these labels; fails if absent. */
  double value(String name, Map<String, String> labels) {
    return named(name).stream().filter(s -> s.labels().equals(labels)).findFirst()
        .orElseThrow(() -> new AssertionError("no sample " + name + labels + " in " + named(name)))
        .value();
  }
}
