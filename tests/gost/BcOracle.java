// An independent GOST oracle for tests/gost: BouncyCastle (Debian libbcprov-java).
// Reads one command per line on stdin and prints one answer per line:
//   gost94 <hex data or ->                     -> GOST R 34.11-94 (test S-box "D-TEST") digest, hex
//   streebog <256|512> <hex data or ->         -> GOST R 34.11-2012 digest, hex
//   verify <curve name> <hex digest> <hex r> <hex s> <hex x> <hex y> -> true/false
//   params <curve name>                     -> p a b q x y (hex)
//   sign <curve name> <hex digest> <hex private key> -> r s (hex)
// Curve names are BouncyCastle's ECGOST3410NamedCurves names. The digest is given as the
// big-endian number e that GOST R 34.10 reduces mod q.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.math.BigInteger;
import java.security.SecureRandom;
import org.bouncycastle.asn1.cryptopro.ECGOST3410NamedCurves;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.crypto.Digest;
import org.bouncycastle.crypto.digests.GOST3411Digest;
import org.bouncycastle.crypto.digests.GOST3411_2012_256Digest;
import org.bouncycastle.crypto.digests.GOST3411_2012_512Digest;
import org.bouncycastle.crypto.engines.GOST28147Engine;
import org.bouncycastle.crypto.params.ECDomainParameters;
import org.bouncycastle.crypto.params.ECPrivateKeyParameters;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.params.ParametersWithRandom;
import org.bouncycastle.crypto.signers.ECGOST3410Signer;
import org.bouncycastle.util.encoders.Hex;

public class BcOracle {
    static String digest(Digest d, byte[] data) {
        d.update(data, 0, data.length);
        byte[] out = new byte[d.getDigestSize()];
        d.doFinal(out, 0);
        return Hex.toHexString(out);
    }

    static ECDomainParameters domain(String name) {
        X9ECParameters p = ECGOST3410NamedCurves.getByNameX9(name);
        return new ECDomainParameters(p.getCurve(), p.getG(), p.getN(), p.getH());
    }

    // e as a big-endian byte string of the curve's size (ECGOST3410Signer reverses it back).
    static byte[] message(String hex) {
        byte[] be = Hex.decode(hex);
        byte[] le = new byte[be.length];
        for (int i = 0; i < be.length; i++) le[i] = be[be.length - 1 - i];
        return le;
    }

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        String line;
        while ((line = in.readLine()) != null) {
            String[] f = line.trim().split(" ");
            switch (f[0]) {
                case "gost94":
                    byte[] raw = f[1].equals("-") ? new byte[0] : Hex.decode(f[1]);
                    System.out.println(digest(new GOST3411Digest(GOST28147Engine.getSBox("D-TEST")), raw));
                    break;
                case "streebog":
                    byte[] m = f[2].equals("-") ? new byte[0] : Hex.decode(f[2]);
                    Digest d = f[1].equals("256") ? new GOST3411_2012_256Digest() : new GOST3411_2012_512Digest();
                    System.out.println(digest(d, m));
                    break;
                case "verify": {
                    ECDomainParameters dom = domain(f[1]);
                    ECGOST3410Signer s = new ECGOST3410Signer();
                    s.init(false, new ECPublicKeyParameters(dom.getCurve().createPoint(
                        new BigInteger(f[5], 16), new BigInteger(f[6], 16)), dom));
                    System.out.println(s.verifySignature(message(f[2]),
                        new BigInteger(f[3], 16), new BigInteger(f[4], 16)));
                    break;
                }
                case "params": {
                    X9ECParameters p = ECGOST3410NamedCurves.getByNameX9(f[1]);
                    System.out.println(String.join(" ",
                        p.getCurve().getField().getCharacteristic().toString(16),
                        p.getCurve().getA().toBigInteger().toString(16),
                        p.getCurve().getB().toBigInteger().toString(16),
                        p.getN().toString(16),
                        p.getG().getAffineXCoord().toBigInteger().toString(16),
                        p.getG().getAffineYCoord().toBigInteger().toString(16)));
                    break;
                }
                case "sign": {
                    ECDomainParameters dom = domain(f[1]);
                    ECGOST3410Signer s = new ECGOST3410Signer();
                    s.init(true, new ParametersWithRandom(
                        new ECPrivateKeyParameters(new BigInteger(f[3], 16), dom), new SecureRandom()));
                    BigInteger[] rs = s.generateSignature(message(f[2]));
                    System.out.println(rs[0].toString(16) + " " + rs[1].toString(16));
                    break;
                }
                default:
                    System.out.println("error unknown command");
            }
            System.out.flush();
        }
    }
}
