package dev.sluice.instrumentation;

import java.nio.charset.StandardCharsets;

/**
 * Decides from a class file's bytes alone, without parsing its code, whether it may need the
 * advice: most classes an application loads are passed over here, before the weaver sees them.
 */
final class ClassFileScan {

  private static final String[] IGNORED_PREFIXES = {
    "java/", "jdk/", "sun/", "com/sun/", "net/bytebuddy/", "dev/sluice/shaded/"
  };

  private static final byte[][] NAMES = {
    utf8("connect"), utf8("getConnection"), utf8("getXAConnection"), utf8("getPooledConnection"),
  };
  private static final int NAME_MIN = "connect".length();
  private static final int NAME_MAX = "getPooledConnection".length();
  private static final byte NAME_CONNECT = 1;
  private static final byte NAME_GETTER = 2; // and above: the getters

  private static final byte[] CONNECT_DESCRIPTOR =
      utf8("(Ljava/lang/String;Ljava/util/Properties;)L");
  private static final byte[] NO_ARGS_DESCRIPTOR = utf8("()L");
  private static final byte[] CREDENTIALS_DESCRIPTOR =
      utf8("(Ljava/lang/String;Ljava/lang/String;)L");
  private static final byte DESCRIPTOR_CONNECT = 16;
  private static final byte DESCRIPTOR_GETTER = 17;

  private static final int ACC_STATIC = 0x0008;
  private static final int ACC_ABSTRACT = 0x0400;

  private ClassFileScan() {}

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Whether the class belongs to the JDK, to Byte Buddy (other agents') or to this agent: never
   * instrumented.
   */
  static boolean ignored(String internalName) {
    for (String prefix : IGNORED_PREFIXES) {
      if (internalName.startsWith(prefix)) {
        return true;
      }
    }
    return false;
  }

  // Every name the advice goes into contains "onnect": connect, getConnection, getXAConnection,
  // getPooledConnection. Horspool's shifts: how far the pattern may move when the byte under its
  // last position is this one.
  private static final byte[] ONNECT = utf8("onnect");
  private static final int[] SHIFT = new int[256];

  static {
    java.util.Arrays.fill(SHIFT, ONNECT.length);
    for (int i = 0; i < ONNECT.length - 1; i++) {
      SHIFT[ONNECT[i] & 0xff] = ONNECT.length - 1 - i;
    }
  }

  /**
   * Whether the bytes contain {@code onnect} anywhere: the cheapest test, passing over nine in ten
   * class files while looking at about one byte in five (Horspool's search).
   */
  static boolean mentionsConnect(byte[] b) {
    int n = ONNECT.length;
    int last = n - 1;
    for (int i = 0; i + last < b.length; i += SHIFT[b[i + last] & 0xff]) {
      int j = last;
      while (b[i + j] == ONNECT[j]) {
        if (j == 0) {
          return true;
        }
        j--;
      }
    }
    return false;
  }

  /**
   * Whether the class file declares a concrete {@code connect(String, Properties)}, or an instance
   * {@code getConnection}, {@code getXAConnection} or {@code getPooledConnection} taking no
   * arguments or {@code (String, String)}, each returning an object (any type: a covariant return
   * type is resolved later by the weaver). One pass over the constant pool and the method table, no
   * parsing of code; code that only calls such methods is passed over. A class file it cannot read
   * is left to the weaver.
   *
   * <p>Most classes are passed over after the constant pool: none of its strings is one of the four
   * names. Only a string of one of their lengths is compared, so the pass costs little more than
   * stepping over the pool's entries; the method table is read only when a name is there.
   */
  static boolean declaresConnectionMethod(byte[] b) {
    try {
      int count = u2(b, 8);
      byte[] kind = new byte[count];
      boolean named = false;
      int p = 10;
      for (int i = 1; i < count; i++) {
        int tag = b[p] & 0xff;
        switch (tag) {
          case 1: // Utf8
            int length = u2(b, p + 1);
            byte k = classify(b, p + 3, length);
            kind[i] = k;
            named |= k > 0 && k < DESCRIPTOR_CONNECT;
            p += 3 + length;
            break;
          case 3: // Integer
          case 4: // Float
          case 9: // Fieldref
          case 10: // Methodref
          case 11: // InterfaceMethodref
          case 12: // NameAndType
          case 17: // Dynamic
          case 18: // InvokeDynamic
            p += 5;
            break;
          case 5: // Long
          case 6: // Double
            p += 9;
            i++;
            break;
          case 7: // Class
          case 8: // String
          case 16: // MethodType
          case 19: // Module
          case 20: // Package
            p += 3;
            break;
          case 15: // MethodHandle
            p += 4;
            break;
          default:
            return true;
        }
      }
      if (!named) {
        return false;
      }
      p += 6; // access flags, this class, super class
      p += 2 + 2 * u2(b, p); // interfaces
      int fields = u2(b, p);
      p += 2;
      for (int f = 0; f < fields; f++) {
        p = skipAttributes(b, p + 6);
      }
      int methods = u2(b, p);
      p += 2;
      for (int m = 0; m < methods; m++) {
        int access = u2(b, p);
        int name = kind[u2(b, p + 2)];
        int descriptor = kind[u2(b, p + 4)];
        if ((access & ACC_ABSTRACT) == 0) {
          if (name == NAME_CONNECT && descriptor == DESCRIPTOR_CONNECT) {
            return true;
          }
          if (name >= NAME_GETTER
              && name < DESCRIPTOR_CONNECT
              && descriptor == DESCRIPTOR_GETTER
              && (access & ACC_STATIC) == 0) {
            return true;
          }
        }
        p = skipAttributes(b, p + 6);
      }
      return false;
    } catch (RuntimeException unreadable) {
      return true;
    }
  }

  private static int skipAttributes(byte[] b, int p) {
    int attributes = u2(b, p);
    p += 2;
    for (int a = 0; a < attributes; a++) {
      p += 6 + u4(b, p + 2);
    }
    return p;
  }

  private static byte classify(byte[] b, int offset, int length) {
    if (length == 0) {
      return 0;
    }
    if (b[offset] != '(') {
      if (length < NAME_MIN || length > NAME_MAX) {
        return 0;
      }
      for (int n = 0; n < NAMES.length; n++) {
        if (equal(b, offset, length, NAMES[n])) {
          return (byte) (1 + n);
        }
      }
      return 0;
    }
    if (startsWith(b, offset, length, CONNECT_DESCRIPTOR)) {
      return DESCRIPTOR_CONNECT;
    }
    if (startsWith(b, offset, length, NO_ARGS_DESCRIPTOR)
        || startsWith(b, offset, length, CREDENTIALS_DESCRIPTOR)) {
      return DESCRIPTOR_GETTER;
    }
    return 0;
  }

  private static boolean equal(byte[] b, int offset, int length, byte[] expected) {
    return length == expected.length && startsWith(b, offset, length, expected);
  }

  private static boolean startsWith(byte[] b, int offset, int length, byte[] prefix) {
    if (length < prefix.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (b[offset + i] != prefix[i]) {
        return false;
      }
    }
    return true;
  }

  private static int u2(byte[] b, int p) {
    return ((b[p] & 0xff) << 8) | (b[p + 1] & 0xff);
  }

  private static int u4(byte[] b, int p) {
    return ((b[p] & 0xff) << 24)
        | ((b[p + 1] & 0xff) << 16)
        | ((b[p + 2] & 0xff) << 8)
        | (b[p + 3] & 0xff);
  }
}
