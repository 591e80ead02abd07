import java.math.BigInteger;
import java.security.*;
import java.security.interfaces.*;
import java.security.spec.*;
import java.util.Arrays;
import java.util.Base64;

// DSADER is the Java side of dsader's interop test.
//   gen N            N fresh 1024-bit DSA keys: "PRIV64 PUB64" per line
//   read PRIV64 PUB64 ...  decode each pair with KeyFactory; print
//                    "p q g y x same" (hex; same: getEncoded equals the input)
public class DSADER {
    public static void main(String[] args) throws Exception {
        Base64.Encoder enc = Base64.getEncoder();
        Base64.Decoder dec = Base64.getDecoder();
        if (args[0].equals("gen")) {
            KeyPairGenerator g = KeyPairGenerator.getInstance("DSA");
            g.initialize(1024);
            for (int i = 0; i < Integer.parseInt(args[1]); i++) {
                KeyPair kp = g.generateKeyPair();
                System.out.println(enc.encodeToString(kp.getPrivate().getEncoded()) + " "
                    + enc.encodeToString(kp.getPublic().getEncoded()));
            }
            return;
        }
        KeyFactory kf = KeyFactory.getInstance("DSA");
        for (int i = 1; i + 1 < args.length; i += 2) {
            byte[] priv = dec.decode(args[i]), pub = dec.decode(args[i + 1]);
            DSAPrivateKey k = (DSAPrivateKey) kf.generatePrivate(new PKCS8EncodedKeySpec(priv));
            DSAPublicKey p = (DSAPublicKey) kf.generatePublic(new X509EncodedKeySpec(pub));
            DSAParams a = k.getParams(), b = p.getParams();
            if (!a.getP().equals(b.getP()) || !a.getQ().equals(b.getQ()) || !a.getG().equals(b.getG())) {
                throw new Exception("the private and the public key have other parameters");
            }
            boolean same = Arrays.equals(k.getEncoded(), priv) && Arrays.equals(p.getEncoded(), pub);
            System.out.println(a.getP().toString(16) + " " + a.getQ().toString(16) + " " + a.getG().toString(16)
                + " " + p.getY().toString(16) + " " + k.getX().toString(16) + " " + same);
        }
    }
}
