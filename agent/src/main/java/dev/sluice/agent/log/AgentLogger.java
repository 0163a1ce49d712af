package dev.sluice.agent.log;

import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;

/** An SLF4J logger that writes through {@link AgentLog}. */
final class AgentLogger extends LegacyAbstractLogger {
  private static final long serialVersionUID = 1L;

  AgentLogger(String name) {
    this.name = name;
  }

  @Override
  public boolean isTraceEnabled() {
    return AgentLog.enabled(name, AgentLog.Level.TRACE);
  }

  @Override
  public boolean isDebugEnabled() {
    return AgentLog.enabled(name, AgentLog.Level.DEBUG);
  }

  @Override
  public boolean isInfoEnabled() {
    return AgentLog.enabled(name, AgentLog.Level.INFO);
  }

  @Override
  public boolean isWarnEnabled() {
    return AgentLog.enabled(name, AgentLog.Level.WARN);
  }

  @Override
  public boolean isErrorEnabled() {
    return AgentLog.enabled(name, AgentLog.Level.ERROR);
  }

  @Override
  protected String getFullyQualifiedCallerName() {
    return null;
  }

  @Override
  protected void handleNormalizedLoggingCall(
      Level level, Marker marker, String messagePattern, Object[] arguments, Throwable throwable) {
    String message = MessageFormatter.basicArrayFormat(messagePattern, arguments);
    AgentLog.write(name, AgentLog.Level.valueOf(level.name()), message, throwable);
  }
}
