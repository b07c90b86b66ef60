/* synth: per-culture name lists, written for this project (common given names
 * and surnames of each culture from general knowledge, with relative weights
 * that only roughly follow their frequency). `latin` is the ICAO 9303 Latin
 * form in capitals (diacritics folded: German umlauts to AE/OE/UE, others to
 * the base letter, apostrophes dropped); `native` the name as written in its
 * own script when it differs (NULL: the title-cased Latin form). */
#include <string.h>

#include "synth/synth_int.h"

/* The tables read best packed by hand. */
/* clang-format off */
#define L(lat, w) {lat, NULL, w}
#define N(lat, nat, w) {lat, nat, w}
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------- anglo (Latin, ASCII) ---------------- */
static const pm__name_t anglo_m[] = {
    L("JAMES", 30), L("JOHN", 30), L("ROBERT", 28), L("MICHAEL", 30), L("WILLIAM", 25),
    L("DAVID", 28), L("RICHARD", 18), L("JOSEPH", 18), L("THOMAS", 18), L("CHRISTOPHER", 16),
    L("DANIEL", 16), L("MATTHEW", 14), L("ANTHONY", 12), L("MARK", 12), L("PAUL", 12),
    L("STEVEN", 12), L("ANDREW", 12), L("JOSHUA", 10), L("KEVIN", 10), L("BRIAN", 10),
    L("RYAN", 10), L("JASON", 9), L("JUSTIN", 8), L("BRANDON", 8), L("TYLER", 7),
    L("ETHAN", 7), L("NOAH", 7), L("LIAM", 7), L("BENJAMIN", 8), L("SAMUEL", 7),
    L("PATRICK", 7), L("SCOTT", 7), L("ERIC", 7), L("GARY", 6), L("TIMOTHY", 7),
    L("JEFFREY", 6), L("JACOB", 7), L("NATHAN", 6), L("AARON", 5), L("ADAM", 6),
    L("KYLE", 5), L("SEAN", 5), L("CONNOR", 4), L("OWEN", 4), L("LOGAN", 4), L("DYLAN", 4),
    L("JACK", 5), L("HENRY", 4), L("GEORGE", 5), L("EDWARD", 5), L("PETER", 5),
    L("CHARLES", 10), L("DONALD", 6), L("KENNETH", 6), L("GREGORY", 5), L("STEPHEN", 6),
    L("LARRY", 4), L("FRANK", 4), L("RAYMOND", 4), L("WAYNE", 3), L("DOUGLAS", 4),
    L("GORDON", 3), L("GRAHAM", 2), L("COLIN", 3), L("IAN", 3), L("NEIL", 3), L("DEREK", 3),
    L("TREVOR", 3), L("SHANE", 2), L("TRAVIS", 3), L("CODY", 3), L("WYATT", 2),
    L("HUNTER", 2), L("MASON", 4), L("LUCAS", 4), L("CALEB", 3), L("ISAAC", 3),
    L("ALEXANDER", 6), L("JONATHAN", 6), L("NICHOLAS", 6), L("ZACHARY", 3), L("CAMERON", 3),
};
static const pm__name_t anglo_f[] = {
    L("MARY", 25), L("PATRICIA", 18), L("JENNIFER", 22), L("LINDA", 15), L("ELIZABETH", 18),
    L("BARBARA", 12), L("SUSAN", 14), L("JESSICA", 16), L("SARAH", 18), L("KAREN", 12),
    L("LISA", 13), L("NANCY", 10), L("BETTY", 6), L("SANDRA", 10), L("MARGARET", 10),
    L("ASHLEY", 12), L("KIMBERLY", 10), L("EMILY", 12), L("DONNA", 7), L("MICHELLE", 11),
    L("CAROL", 7), L("AMANDA", 10), L("MELISSA", 10), L("DEBORAH", 7), L("STEPHANIE", 9),
    L("REBECCA", 8), L("LAURA", 9), L("SHARON", 6), L("CYNTHIA", 6), L("KATHLEEN", 6),
    L("AMY", 8), L("ANGELA", 8), L("SHIRLEY", 4), L("ANNA", 6), L("BRENDA", 5), L("EMMA", 7),
    L("OLIVIA", 7), L("AVA", 5), L("SOPHIA", 6), L("ISABELLA", 5), L("MIA", 4),
    L("CHARLOTTE", 5), L("ABIGAIL", 4), L("MADISON", 4), L("HANNAH", 5), L("CHLOE", 4),
    L("GRACE", 5), L("MEGAN", 5), L("LAUREN", 5), L("RACHEL", 6), L("HEATHER", 6),
    L("NICOLE", 7), L("SAMANTHA", 6), L("KATHERINE", 6), L("CHRISTINE", 5), L("JULIE", 5),
    L("JOANNE", 3), L("WENDY", 3), L("TRACY", 3), L("KELLY", 5), L("ERIN", 4),
    L("BRITTANY", 3), L("TAYLOR", 3), L("AVERY", 2), L("HARPER", 2), L("EVELYN", 3),
    L("RUTH", 3), L("JUDITH", 3), L("DIANE", 4), L("JANET", 4), L("HEIDI", 2),
    L("SHANNON", 3), L("VICTORIA", 4), L("CATHERINE", 5), L("ALEXANDRA", 3),
};
static const pm__name_t anglo_s[] = {
    L("SMITH", 100), L("JOHNSON", 80), L("WILLIAMS", 70), L("BROWN", 70), L("JONES", 60),
    L("MILLER", 50), L("DAVIS", 50), L("WILSON", 40), L("ANDERSON", 35), L("TAYLOR", 35),
    L("THOMAS", 35), L("MOORE", 30), L("MARTIN", 30), L("JACKSON", 30), L("THOMPSON", 30),
    L("WHITE", 30), L("HARRIS", 25), L("CLARK", 25), L("LEWIS", 25), L("ROBINSON", 22),
    L("WALKER", 22), L("YOUNG", 20), L("ALLEN", 20), L("KING", 20), L("WRIGHT", 20),
    L("SCOTT", 18), L("HILL", 18), L("GREEN", 18), L("ADAMS", 18), L("BAKER", 18),
    L("NELSON", 16), L("CARTER", 16), L("MITCHELL", 16), L("ROBERTS", 15), L("CAMPBELL", 15),
    L("EVANS", 14), L("TURNER", 14), L("PARKER", 14), L("COLLINS", 13), L("EDWARDS", 13),
    L("STEWART", 13), L("MORRIS", 12), L("MURPHY", 12), L("COOK", 12), L("ROGERS", 12),
    L("MORGAN", 12), L("COOPER", 11), L("PETERSON", 11), L("REED", 11), L("BAILEY", 11),
    L("BELL", 11), L("KELLY", 10), L("HOWARD", 10), L("WARD", 10), L("COX", 10),
    L("RICHARDSON", 10), L("WOOD", 10), L("WATSON", 10), L("BROOKS", 10), L("BENNETT", 10),
    L("GRAY", 10), L("JAMES", 9), L("HUGHES", 9), L("PRICE", 9), L("SANDERS", 9),
    L("MYERS", 9), L("LONG", 9), L("ROSS", 9), L("FOSTER", 9), L("GRAHAM", 8),
    L("HENDERSON", 8), L("HAMILTON", 8), N("MACDONALD", "MacDonald", 8),
    N("MCDONALD", "McDonald", 8), L("FRASER", 6), L("MURRAY", 7), L("REID", 6), L("GRANT", 6),
    N("OBRIEN", "O'Brien", 6), N("OCONNOR", "O'Connor", 5), L("SULLIVAN", 7),
    L("FITZGERALD", 5), L("WALSH", 6), L("BYRNE", 4), L("RYAN", 7), L("KENNEDY", 6),
    L("LYNCH", 4), L("QUINN", 4), L("HALL", 16), L("WALLACE", 6), L("BUTLER", 7),
    L("BARNES", 7), L("FISHER", 7), L("COLEMAN", 7), L("JENKINS", 8), L("PERRY", 7),
    L("POWELL", 7), L("PATTERSON", 7), L("SCHMIDT", 6), L("MEYER", 5), L("WEBER", 4),
    L("SCHNEIDER", 4), L("HOFFMAN", 5), L("KLEIN", 4), L("WAGNER", 5), L("SNYDER", 6),
    L("RUSSO", 4), L("ROMANO", 3), L("ESPOSITO", 3), L("MARINO", 3), L("KOWALSKI", 3),
    L("NOWAK", 3), L("JOHNSTON", 6), L("CHAMBERS", 4), L("LAWRENCE", 5), L("WEBB", 4),
    L("SIMPSON", 4), L("STEVENS", 5), L("TUCKER", 3), L("PORTER", 4), L("HUNTER", 4),
    L("HICKS", 4), L("CRAWFORD", 4), L("HENRY", 4), L("BOYD", 4), L("MASON", 4),
    L("KENNEDY", 3), L("WARREN", 4), L("DIXON", 3), L("BURNS", 4), L("GORDON", 4),
    L("SHAW", 4), L("HOLMES", 3), L("RICE", 3), L("HUNT", 3), L("BLACK", 4), L("PALMER", 3),
};

/* ---------------- french (Latin with diacritics) ---------------- */
static const pm__name_t french_m[] = {
    L("JEAN", 20), L("PIERRE", 15), L("MICHEL", 12), L("PHILIPPE", 10), L("ALAIN", 8),
    L("NICOLAS", 10), N("FRANCOIS", "François", 10), N("JEROME", "Jérôme", 6),
    N("STEPHANE", "Stéphane", 7), N("SEBASTIEN", "Sébastien", 7), L("LUC", 6), L("LOUIS", 8),
    L("GABRIEL", 6), L("MATHIEU", 6), N("ETIENNE", "Étienne", 4), N("BENOIT", "Benoît", 4),
    L("HUGO", 5), N("THEO", "Théo", 4), L("OLIVIER", 7), L("JULIEN", 7), L("GUILLAUME", 6),
    N("REJEAN", "Réjean", 3), N("GAETAN", "Gaétan", 3), N("MARC-ANDRE", "Marc-André", 3),
    L("YVES", 4), L("DENIS", 4), L("SIMON", 5), L("ANTOINE", 6), L("MAXIME", 5),
};
static const pm__name_t french_f[] = {
    L("MARIE", 20), L("NATHALIE", 10), L("ISABELLE", 10), L("SOPHIE", 8),
    N("CHLOE", "Chloé", 6), N("LEA", "Léa", 7), L("MANON", 5), L("CAMILLE", 6),
    N("EMILIE", "Émilie", 6), L("JULIE", 8), N("GENEVIEVE", "Geneviève", 5),
    N("VERONIQUE", "Véronique", 5), N("HELENE", "Hélène", 5), N("CELINE", "Céline", 5),
    N("MELANIE", "Mélanie", 6), N("JOSEE", "Josée", 4), L("CATHERINE", 7),
    L("ANNE-MARIE", 4), L("SYLVIE", 6), L("CHANTAL", 5), L("BRIGITTE", 3), N("ZOE", "Zoé", 3),
    L("AUDREY", 4), N("MAEVA", "Maëva", 2), L("CAROLINE", 5),
};
static const pm__name_t french_s[] = {
    L("TREMBLAY", 20), L("GAGNON", 16), L("ROY", 14), N("COTE", "Côté", 10),
    L("BOUCHARD", 10), L("GAUTHIER", 9), L("MORIN", 9), L("LAVOIE", 8), L("FORTIN", 8),
    N("GAGNE", "Gagné", 7), L("OUELLET", 7), L("PELLETIER", 7), N("BELANGER", "Bélanger", 6),
    N("LEVESQUE", "Lévesque", 6), L("BERGERON", 6), L("LEBLANC", 6), L("PAQUETTE", 5),
    L("GIRARD", 6), L("SIMARD", 5), L("BOUCHER", 5), L("CARON", 5), L("BEAULIEU", 5),
    L("CLOUTIER", 5), N("DUBE", "Dubé", 5), L("POIRIER", 5), L("MARTIN", 10), L("BERNARD", 8),
    L("DUBOIS", 8), L("ROBERT", 6), L("RICHARD", 6), L("PETIT", 6), L("DURAND", 6),
    L("LEROY", 5), L("MOREAU", 6), N("LEFEVRE", "Lefèvre", 5), L("MERCIER", 4),
    L("ROUSSEAU", 4), L("VINCENT", 4), L("FOURNIER", 4), N("DE LA FONTAINE", "de La Fontaine", 1),
    N("DE BLOIS", "de Blois", 1), N("DU BOIS", "du Bois", 1), N("DESROSIERS", "Desrosiers", 2),
    N("SAINT-PIERRE", "Saint-Pierre", 2), N("LEMIEUX", "Lemieux", 4), N("THERIAULT", "Thériault", 3),
};

/* ---------------- hispanic ---------------- */
static const pm__name_t hisp_m[] = {
    N("JOSE", "José", 30), L("JUAN", 25), N("LUIS", "Luis", 20), L("CARLOS", 20),
    L("JORGE", 15), L("MIGUEL", 15), L("FRANCISCO", 12), L("ANTONIO", 12),
    N("JESUS", "Jesús", 10), L("ALEJANDRO", 10), L("MANUEL", 10), L("PEDRO", 8),
    L("RICARDO", 8), L("FERNANDO", 8), L("JAVIER", 8), L("ROBERTO", 7), L("EDUARDO", 7),
    L("SERGIO", 6), N("RAUL", "Raúl", 6), N("ANDRES", "Andrés", 5), L("DIEGO", 6),
    N("HECTOR", "Héctor", 5), N("OSCAR", "Óscar", 5), L("SANTIAGO", 5), L("MATEO", 4),
    L("EMILIANO", 3), N("JOAQUIN", "Joaquín", 3), N("RAMON", "Ramón", 4), N("MARTIN", "Martín", 4),
    N("IVAN", "Iván", 3), N("RUBEN", "Rubén", 3), L("ARTURO", 4), L("ENRIQUE", 4),
};
static const pm__name_t hisp_f[] = {
    N("MARIA", "María", 35), L("GUADALUPE", 10), L("JUANA", 6), L("ANA", 10),
    N("SOFIA", "Sofía", 8), L("VALENTINA", 6), L("ISABEL", 6), L("CARMEN", 8), L("ROSA", 7),
    L("LAURA", 7), L("GABRIELA", 7), L("DANIELA", 7), L("FERNANDA", 5), L("ALEJANDRA", 6),
    N("LUCIA", "Lucía", 6), N("VERONICA", "Verónica", 5), L("PATRICIA", 6), L("ADRIANA", 5),
    N("MONICA", "Mónica", 5), L("CLAUDIA", 5), L("ELENA", 5), L("PAOLA", 4), L("XIMENA", 4),
    L("CAMILA", 5), L("MARIANA", 5), L("ANDREA", 5), L("LETICIA", 3), L("BEATRIZ", 3),
    N("CONCEPCION", "Concepción", 2), L("DOLORES", 3), L("YOLANDA", 3),
};
static const pm__name_t hisp_s[] = {
    N("GARCIA", "García", 40), N("HERNANDEZ", "Hernández", 35), N("MARTINEZ", "Martínez", 35),
    N("LOPEZ", "López", 33), N("GONZALEZ", "González", 33), N("RODRIGUEZ", "Rodríguez", 30),
    N("PEREZ", "Pérez", 28), N("SANCHEZ", "Sánchez", 26), N("RAMIREZ", "Ramírez", 24),
    L("TORRES", 18), L("FLORES", 18), L("RIVERA", 16), N("GOMEZ", "Gómez", 16),
    N("DIAZ", "Díaz", 16), L("CRUZ", 14), L("MORALES", 14), L("REYES", 14),
    N("GUTIERREZ", "Gutiérrez", 12), L("ORTIZ", 12), N("CHAVEZ", "Chávez", 11), L("RAMOS", 10),
    L("RUIZ", 10), N("JIMENEZ", "Jiménez", 10), L("MENDOZA", 10), N("VAZQUEZ", "Vázquez", 10),
    L("CASTILLO", 9), N("ALVAREZ", "Álvarez", 9), L("ROMERO", 9), L("MORENO", 9),
    L("HERRERA", 8), L("MEDINA", 8), L("AGUILAR", 8), L("VARGAS", 8), L("CASTRO", 7),
    N("GUZMAN", "Guzmán", 7), N("MUNOZ", "Muñoz", 7), N("NUNEZ", "Núñez", 5),
    N("IBANEZ", "Ibáñez", 3), N("PENA", "Peña", 5), L("SALAZAR", 5),
    N("DOMINGUEZ", "Domínguez", 5), L("CERVANTES", 3), N("DE LA CRUZ", "de la Cruz", 4),
    N("DEL RIO", "del Río", 2), N("DE LEON", "de León", 3), N("DE LOS SANTOS", "de los Santos", 2),
    N("DE JESUS", "de Jesús", 2), N("DE LA ROSA", "de la Rosa", 2),
};

/* ---------------- portuguese ---------------- */
static const pm__name_t port_m[] = {
    N("JOAO", "João", 20), N("JOSE", "José", 15), N("ANTONIO", "António", 10), L("PEDRO", 8),
    L("PAULO", 8), L("LUCAS", 8), L("GABRIEL", 7), L("RAFAEL", 7), L("TIAGO", 6),
    L("MIGUEL", 6), N("LUIS", "Luís", 6), L("FRANCISCO", 6), L("CARLOS", 6), L("MARCOS", 5),
    L("FELIPE", 5), N("GONCALO", "Gonçalo", 3), L("BRUNO", 5), L("RODRIGO", 5),
};
static const pm__name_t port_f[] = {
    L("MARIA", 25), L("ANA", 15), L("BEATRIZ", 8), L("MARIANA", 8), N("INES", "Inês", 6),
    L("JULIANA", 6), L("FERNANDA", 6), L("CAMILA", 6), L("LARISSA", 4),
    N("LETICIA", "Letícia", 4), N("PATRICIA", "Patrícia", 5), L("JOANA", 5), L("SOFIA", 5),
    N("LUISA", "Luísa", 4), L("GABRIELA", 5), N("CONCEICAO", "Conceição", 3),
};
static const pm__name_t port_s[] = {
    L("SILVA", 40), L("SANTOS", 30), L("OLIVEIRA", 25), L("SOUZA", 20), L("SOUSA", 15),
    L("RODRIGUES", 15), L("FERREIRA", 15), L("ALVES", 12), L("PEREIRA", 15), L("LIMA", 10),
    L("GOMES", 10), L("COSTA", 12), L("RIBEIRO", 10), L("MARTINS", 10), L("CARVALHO", 10),
    L("ALMEIDA", 8), L("LOPES", 8), L("SOARES", 6), L("FERNANDES", 8), L("VIEIRA", 6),
    L("BARBOSA", 6), N("ARAUJO", "Araújo", 6), N("GONCALVES", "Gonçalves", 6),
    N("DA SILVA", "da Silva", 15), N("DOS SANTOS", "dos Santos", 10),
    N("DA COSTA", "da Costa", 5), N("DE SOUZA", "de Souza", 6),
    N("MAGALHAES", "Magalhães", 3),
};

/* ---------------- german ---------------- */
static const pm__name_t german_m[] = {
    L("THOMAS", 10), L("MICHAEL", 10), L("ANDREAS", 9), L("STEFAN", 9), L("CHRISTIAN", 8),
    L("MARKUS", 8), L("FRANK", 7), N("JUERGEN", "Jürgen", 7), L("KLAUS", 6), L("UWE", 5),
    L("WOLFGANG", 6), L("LUKAS", 6), L("JONAS", 6), L("LEON", 6), L("FINN", 5),
    L("MAXIMILIAN", 6), L("PAUL", 6), L("FELIX", 6), L("TOBIAS", 5), L("SEBASTIAN", 6),
    N("JOERG", "Jörg", 4), N("GUENTER", "Günter", 4), L("HANS", 5), L("DIETER", 4),
};
static const pm__name_t german_f[] = {
    L("SABINE", 8), L("PETRA", 7), L("MONIKA", 7), L("CLAUDIA", 7), L("SUSANNE", 7),
    L("ANDREA", 7), L("BIRGIT", 6), L("URSULA", 5), L("JULIA", 7), L("ANNA", 7), L("LAURA", 6),
    L("LENA", 6), L("LEA", 5), L("HANNAH", 5), L("KATHARINA", 6), L("JUTTA", 4),
    L("GISELA", 4), L("MIA", 4), N("JOSEFINE", "Josefine", 2), N("BAERBEL", "Bärbel", 2),
};
static const pm__name_t german_s[] = {
    N("MUELLER", "Müller", 30), L("SCHMIDT", 25), L("SCHNEIDER", 18), L("FISCHER", 16),
    L("WEBER", 15), L("MEYER", 14), L("WAGNER", 13), L("BECKER", 12), L("SCHULZ", 12),
    L("HOFFMANN", 11), N("SCHAEFER", "Schäfer", 10), L("KOCH", 10), L("BAUER", 10),
    L("RICHTER", 9), L("KLEIN", 9), L("WOLF", 9), N("SCHROEDER", "Schröder", 8),
    L("NEUMANN", 8), L("SCHWARZ", 8), L("ZIMMERMANN", 7), L("BRAUN", 7),
    N("KRUEGER", "Krüger", 7), L("HOFMANN", 6), L("HARTMANN", 6), L("LANGE", 6),
    L("WERNER", 6), L("KRAUSE", 6), N("KOEHLER", "Köhler", 5), N("WEISS", "Weiß", 5),
    N("GROSS", "Groß", 5), N("VON BERG", "von Berg", 2), N("VON ESSEN", "von Essen", 1),
};

/* ---------------- dutch ---------------- */
static const pm__name_t dutch_m[] = {
    L("JAN", 10), L("PIETER", 8), L("KEES", 5), L("JOHANNES", 7), L("WILLEM", 6),
    L("HENDRIK", 6), L("DAAN", 6), L("SEM", 5), L("LUCAS", 5), L("BRAM", 5), L("THIJS", 5),
    L("RUBEN", 5), L("JOOST", 4), L("MAARTEN", 4),
};
static const pm__name_t dutch_f[] = {
    L("ANNA", 8), L("MARIA", 8), L("JOHANNA", 6), L("SANNE", 6), L("EMMA", 7), L("JULIA", 6),
    L("SOPHIE", 6), L("LOTTE", 5), L("ANOUK", 5), L("FLEUR", 4), L("FEMKE", 4), L("EVA", 5),
    L("INGRID", 4),
};
static const pm__name_t dutch_s[] = {
    N("DE JONG", "de Jong", 15), L("JANSEN", 12), N("DE VRIES", "de Vries", 12),
    N("VAN DEN BERG", "van den Berg", 10), N("VAN DIJK", "van Dijk", 10), L("BAKKER", 10),
    L("JANSSEN", 9), L("VISSER", 9), L("SMIT", 8), L("MEIJER", 8), N("DE BOER", "de Boer", 7),
    L("MULDER", 7), N("DE GROOT", "de Groot", 7), L("BOS", 6), L("VOS", 6), L("PETERS", 6),
    L("HENDRIKS", 6), N("VAN LEEUWEN", "van Leeuwen", 5), L("DEKKER", 5), L("BROUWER", 5),
    N("DE WIT", "de Wit", 5), L("DIJKSTRA", 5), L("SMITS", 4), N("VAN DER MEER", "van der Meer", 4),
    N("VAN DER LINDEN", "van der Linden", 4),
};

/* ---------------- italian ---------------- */
static const pm__name_t ital_m[] = {
    L("GIUSEPPE", 15), L("GIOVANNI", 12), L("ANTONIO", 12), L("MARIO", 10), L("LUIGI", 8),
    L("FRANCESCO", 10), L("ANGELO", 7), L("VINCENZO", 7), L("PIETRO", 6), L("SALVATORE", 7),
    L("MARCO", 8), L("ALESSANDRO", 8), L("ANDREA", 7), L("LORENZO", 6), L("MATTEO", 6),
    L("LEONARDO", 5), N("NICOLO", "Nicolò", 3),
};
static const pm__name_t ital_f[] = {
    L("MARIA", 15), L("ANNA", 10), L("GIUSEPPINA", 6), L("ROSA", 6), L("ANGELA", 6),
    L("GIOVANNA", 6), L("TERESA", 5), L("LUCIA", 5), L("FRANCESCA", 7), L("GIULIA", 7),
    L("CHIARA", 6), L("SOFIA", 6), L("AURORA", 4), L("MARTINA", 5), L("ALESSIA", 5),
};
static const pm__name_t ital_s[] = {
    L("ROSSI", 20), L("RUSSO", 15), L("FERRARI", 12), L("ESPOSITO", 12), L("BIANCHI", 10),
    L("ROMANO", 10), L("COLOMBO", 9), L("RICCI", 8), L("MARINO", 8), L("GRECO", 8),
    L("BRUNO", 7), L("GALLO", 7), L("CONTI", 7), N("DE LUCA", "De Luca", 7), L("MANCINI", 6),
    L("COSTA", 6), L("GIORDANO", 6), L("RIZZO", 6), L("LOMBARDI", 6), L("MORETTI", 5),
    N("DI STEFANO", "Di Stefano", 3), N("DANGELO", "D'Angelo", 4),
    N("DELLACQUA", "Dell'Acqua", 2),
};

/* ---------------- polish ---------------- */
static const pm__name_t pol_m[] = {
    L("PIOTR", 10), L("KRZYSZTOF", 9), L("ANDRZEJ", 8), L("TOMASZ", 8), N("PAWEL", "Paweł", 8),
    N("MICHAL", "Michał", 7), L("MARCIN", 7), L("JAKUB", 7), L("ADAM", 6),
    N("LUKASZ", "Łukasz", 6), L("GRZEGORZ", 5), L("WOJCIECH", 5), L("MATEUSZ", 6),
    L("KAMIL", 5), L("MACIEJ", 5),
};
static const pm__name_t pol_f[] = {
    L("ANNA", 12), L("MARIA", 8), L("KATARZYNA", 8), N("MALGORZATA", "Małgorzata", 7),
    L("AGNIESZKA", 7), L("BARBARA", 5), L("EWA", 6), L("KRYSTYNA", 5), L("MAGDALENA", 6),
    L("JOANNA", 6), L("ALEKSANDRA", 5), L("ZOFIA", 5), L("DOROTA", 4), L("BEATA", 4),
};
static const pm__name_t pol_s[] = {
    L("NOWAK", 20), L("KOWALSKI", 15), N("WISNIEWSKI", "Wiśniewski", 12),
    N("WOJCIK", "Wójcik", 11), L("KOWALCZYK", 10), N("KAMINSKI", "Kamiński", 10),
    L("LEWANDOWSKI", 10), N("ZIELINSKI", "Zieliński", 9), N("SZYMANSKI", "Szymański", 9),
    N("WOZNIAK", "Woźniak", 8), N("DABROWSKI", "Dąbrowski", 8), N("KOZLOWSKI", "Kozłowski", 7),
    L("JANKOWSKI", 6), L("MAZUR", 6), L("KWIATKOWSKI", 6), L("KRAWCZYK", 6),
    L("PIOTROWSKI", 5), L("GRABOWSKI", 5), L("NOWAKOWSKI", 5), N("PAWLOWSKI", "Pawłowski", 5),
    L("MICHALSKI", 5), N("KROL", "Król", 4), L("WIECZOREK", 4), N("JABLONSKI", "Jabłoński", 4),
    N("WROBEL", "Wróbel", 4),
};

/* ---------------- russian (Cyrillic, ICAO 9303 transliteration) ---------------- */
static const pm__name_t rus_m[] = {
    N("ALEKSANDR", "Александр", 12), N("SERGEI", "Сергей", 11), N("DMITRII", "Дмитрий", 10),
    N("ANDREI", "Андрей", 10), N("ALEKSEI", "Алексей", 9), N("MIKHAIL", "Михаил", 8),
    N("IVAN", "Иван", 8), N("NIKOLAI", "Николай", 6), N("VLADIMIR", "Владимир", 8),
    N("EVGENII", "Евгений", 6), N("IURII", "Юрий", 5), N("PAVEL", "Павел", 6),
    N("MAKSIM", "Максим", 7), N("ARTEM", "Артём", 6), N("IGOR", "Игорь", 5),
    N("OLEG", "Олег", 5), N("VIKTOR", "Виктор", 5), N("ANATOLII", "Анатолий", 3),
};
static const pm__name_t rus_f[] = {
    N("ANNA", "Анна", 10), N("MARIIA", "Мария", 10), N("ELENA", "Елена", 10),
    N("OLGA", "Ольга", 9), N("NATALIA", "Наталья", 8), N("TATIANA", "Татьяна", 8),
    N("IULIIA", "Юлия", 7), N("EKATERINA", "Екатерина", 8), N("IRINA", "Ирина", 8),
    N("SVETLANA", "Светлана", 7), N("KSENIIA", "Ксения", 5), N("DARIA", "Дарья", 6),
    N("ANASTASIIA", "Анастасия", 7), N("LIUDMILA", "Людмила", 4), N("VALENTINA", "Валентина", 3),
};
static const pm__name_t rus_s[] = {
    N("IVANOV", "Иванов", 15), N("SMIRNOV", "Смирнов", 14), N("KUZNETSOV", "Кузнецов", 12),
    N("POPOV", "Попов", 11), N("VASILEV", "Васильев", 10), N("PETROV", "Петров", 10),
    N("SOKOLOV", "Соколов", 9), N("MIKHAILOV", "Михайлов", 8), N("NOVIKOV", "Новиков", 8),
    N("FEDOROV", "Фёдоров", 8), N("MOROZOV", "Морозов", 7), N("VOLKOV", "Волков", 7),
    N("ALEKSEEV", "Алексеев", 6), N("LEBEDEV", "Лебедев", 6), N("SEMENOV", "Семёнов", 6),
    N("EGOROV", "Егоров", 5), N("PAVLOV", "Павлов", 5), N("KOZLOV", "Козлов", 5),
    N("STEPANOV", "Степанов", 5), N("NIKOLAEV", "Николаев", 5), N("ORLOV", "Орлов", 4),
    N("ZHUKOV", "Жуков", 4), N("ZAITSEV", "Зайцев", 4), N("SOLOVEV", "Соловьёв", 4),
    N("CHERNOV", "Чернов", 3), N("KOVALEV", "Ковалёв", 4), N("SHCHERBAKOV", "Щербаков", 3),
    N("IUDIN", "Юдин", 2), N("KHABIBULLIN", "Хабибуллин", 2), N("BELIAEV", "Беляев", 3),
};

/* ---------------- ukrainian (Cyrillic, the national romanisation used in passports) ---- */
static const pm__name_t ukr_m[] = {
    N("OLEKSANDR", "Олександр", 12), N("ANDRII", "Андрій", 10), N("SERHII", "Сергій", 10),
    N("VOLODYMYR", "Володимир", 9), N("DMYTRO", "Дмитро", 9), N("MYKOLA", "Микола", 7),
    N("TARAS", "Тарас", 5), N("IVAN", "Іван", 7), N("BOHDAN", "Богдан", 5),
    N("YURII", "Юрій", 6), N("OLEH", "Олег", 5), N("VASYL", "Василь", 5),
};
static const pm__name_t ukr_f[] = {
    N("OLENA", "Олена", 10), N("OKSANA", "Оксана", 8), N("NATALIIA", "Наталія", 9),
    N("IRYNA", "Ірина", 9), N("YULIIA", "Юлія", 7), N("TETIANA", "Тетяна", 8),
    N("MARIIA", "Марія", 7), N("HALYNA", "Галина", 5), N("SVITLANA", "Світлана", 6),
    N("KATERYNA", "Катерина", 6),
};
static const pm__name_t ukr_s[] = {
    N("SHEVCHENKO", "Шевченко", 12), N("KOVALENKO", "Коваленко", 10),
    N("BONDARENKO", "Бондаренко", 10), N("TKACHENKO", "Ткаченко", 8),
    N("KRAVCHENKO", "Кравченко", 8), N("OLIINYK", "Олійник", 7), N("SHEVCHUK", "Шевчук", 7),
    N("POLISHCHUK", "Поліщук", 6), N("MELNYK", "Мельник", 8), N("BOIKO", "Бойко", 7),
    N("KOVAL", "Коваль", 6), N("LYSENKO", "Лисенко", 5), N("SAVCHENKO", "Савченко", 5),
    N("RUDENKO", "Руденко", 5), N("MOROZ", "Мороз", 5), N("PETRENKO", "Петренко", 5),
};

/* ---------------- greek (capitals without accents, as in passports) ---------------- */
static const pm__name_t greek_m[] = {
    N("GEORGIOS", "ΓΕΩΡΓΙΟΣ", 12), N("IOANNIS", "ΙΩΑΝΝΗΣ", 11),
    N("KONSTANTINOS", "ΚΩΝΣΤΑΝΤΙΝΟΣ", 11), N("DIMITRIOS", "ΔΗΜΗΤΡΙΟΣ", 10),
    N("NIKOLAOS", "ΝΙΚΟΛΑΟΣ", 9), N("PANAGIOTIS", "ΠΑΝΑΓΙΩΤΗΣ", 7),
    N("VASILEIOS", "ΒΑΣΙΛΕΙΟΣ", 6), N("CHRISTOS", "ΧΡΗΣΤΟΣ", 6),
    N("ATHANASIOS", "ΑΘΑΝΑΣΙΟΣ", 5), N("MICHAIL", "ΜΙΧΑΗΛ", 4), N("EVANGELOS", "ΕΥΑΓΓΕΛΟΣ", 4),
};
static const pm__name_t greek_f[] = {
    N("MARIA", "ΜΑΡΙΑ", 12), N("ELENI", "ΕΛΕΝΗ", 10), N("AIKATERINI", "ΑΙΚΑΤΕΡΙΝΗ", 8),
    N("VASILIKI", "ΒΑΣΙΛΙΚΗ", 6), N("SOFIA", "ΣΟΦΙΑ", 6), N("ANGELIKI", "ΑΓΓΕΛΙΚΗ", 5),
    N("GEORGIA", "ΓΕΩΡΓΙΑ", 5), N("DIMITRA", "ΔΗΜΗΤΡΑ", 4), N("KONSTANTINA", "ΚΩΝΣΤΑΝΤΙΝΑ", 4),
    N("PARASKEVI", "ΠΑΡΑΣΚΕΥΗ", 3), N("CHRISTINA", "ΧΡΙΣΤΙΝΑ", 4), N("ANASTASIA", "ΑΝΑΣΤΑΣΙΑ", 4),
};
static const pm__name_t greek_s[] = {
    N("PAPADOPOULOS", "ΠΑΠΑΔΟΠΟΥΛΟΣ", 10), N("PAPAGEORGIOU", "ΠΑΠΑΓΕΩΡΓΙΟΥ", 6),
    N("OIKONOMOU", "ΟΙΚΟΝΟΜΟΥ", 6), N("GEORGIOU", "ΓΕΩΡΓΙΟΥ", 6), N("NIKOLAOU", "ΝΙΚΟΛΑΟΥ", 5),
    N("VASILEIOU", "ΒΑΣΙΛΕΙΟΥ", 5), N("KONSTANTINIDIS", "ΚΩΝΣΤΑΝΤΙΝΙΔΗΣ", 4),
    N("IOANNIDIS", "ΙΩΑΝΝΙΔΗΣ", 4), N("ANTONIOU", "ΑΝΤΩΝΙΟΥ", 4), N("MAKRIS", "ΜΑΚΡΗΣ", 3),
    N("PAPPAS", "ΠΑΠΠΑΣ", 4), N("KARAGIANNIS", "ΚΑΡΑΓΙΑΝΝΗΣ", 3),
    N("DIMITRIOU", "ΔΗΜΗΤΡΙΟΥ", 4), N("ALEXIOU", "ΑΛΕΞΙΟΥ", 3),
    N("MICHAILIDIS", "ΜΙΧΑΗΛΙΔΗΣ", 3), N("THEODOROU", "ΘΕΟΔΩΡΟΥ", 3), N("CHATZIS", "ΧΑΤΖΗΣ", 3),
    N("LAMPROPOULOS", "ΛΑΜΠΡΟΠΟΥΛΟΣ", 2),
};

/* ---------------- arabic ---------------- */
static const pm__name_t arab_m[] = {
    N("MOHAMMED", "محمد", 40), N("AHMED", "أحمد", 18), N("ALI", "علي", 14), N("OMAR", "عمر", 10),
    N("KHALED", "خالد", 8), N("YOUSEF", "يوسف", 8), N("IBRAHIM", "إبراهيم", 8),
    N("HASSAN", "حسن", 8), N("HUSSEIN", "حسين", 7), N("MUSTAFA", "مصطفى", 7),
    N("ABDULLAH", "عبدالله", 9), N("MAHMOUD", "محمود", 7), N("SAID", "سعيد", 4),
    N("TAREK", "طارق", 4), N("KARIM", "كريم", 4), N("SAMI", "سامي", 3), N("YASSER", "ياسر", 4),
    N("FADI", "فادي", 3), N("ZIAD", "زياد", 3), N("WALID", "وليد", 3), N("RAMI", "رامي", 3),
    N("MAJED", "ماجد", 3), N("NABIL", "نبيل", 3), N("ADEL", "عادل", 3), N("JAMAL", "جمال", 3),
};
static const pm__name_t arab_f[] = {
    N("FATIMA", "فاطمة", 15), N("AISHA", "عائشة", 8), N("MARYAM", "مريم", 9),
    N("ZAINAB", "زينب", 7), N("NOUR", "نور", 7), N("LAILA", "ليلى", 6), N("SARA", "سارة", 7),
    N("HUDA", "هدى", 4), N("AMAL", "أمل", 4), N("RANA", "رنا", 4), N("YASMIN", "ياسمين", 5),
    N("SALMA", "سلمى", 4), N("DINA", "دينا", 3), N("RASHA", "رشا", 3), N("HIBA", "هبة", 3),
    N("MONA", "منى", 4), N("REEM", "ريم", 4), N("LINA", "لينا", 3), N("KHADIJA", "خديجة", 5),
    N("AMINA", "آمنة", 5),
};
static const pm__name_t arab_s[] = {
    N("HADDAD", "حداد", 6), N("KHOURY", "خوري", 6), N("MANSOUR", "منصور", 6),
    N("HASSAN", "حسن", 8), N("IBRAHIM", "إبراهيم", 6), N("SALEM", "سالم", 5),
    N("NASSER", "ناصر", 5), N("OSMAN", "عثمان", 4), N("YOUSSEF", "يوسف", 5),
    N("SALEH", "صالح", 5), N("SHARIF", "شريف", 4), N("HAMDAN", "حمدان", 4),
    N("QASSEM", "قاسم", 3), N("ABBAS", "عباس", 4), N("RASHID", "رشيد", 5),
    N("AHMED", "أحمد", 6), N("JABER", "جابر", 3), N("ISSA", "عيسى", 3), N("BAKR", "بكر", 2),
    N("ATTIA", "عطية", 2), N("FARAG", "فرج", 3), N("NAJJAR", "نجار", 4),
    N("ABDELRAHMAN", "عبدالرحمن", 3), N("TAHA", "طه", 3), N("MOUSSA", "موسى", 3),
    N("ZIDAN", "زيدان", 2), N("SHAMS", "شمس", 2), N("SULEIMAN", "سليمان", 3),
    N("HAMAD", "حمد", 3), N("MOURAD", "مراد", 3),
};
/* Latin form carries its separator ("AL-" joins with a hyphen, "ABU " with a
 * space); the Arabic article attaches without a space. */
static const pm__name_t arab_p[] = {
    N("AL-", "ال", 14), N("AL ", "ال", 6), N("EL-", "ال", 5), N("ABU ", "أبو ", 3),
    N("BIN ", "بن ", 2), N("IBN ", "ابن ", 1),
};

/* ---------------- persian (IRN, AFG) ---------------- */
static const pm__name_t pers_m[] = {
    N("MOHAMMAD", "محمد", 20), N("ALI", "علی", 12), N("HOSSEIN", "حسین", 10),
    N("REZA", "رضا", 9), N("MEHDI", "مهدی", 7), N("AMIR", "امیر", 7), N("ALIREZA", "علیرضا", 6),
    N("HAMID", "حمید", 5), N("SAEED", "سعید", 5), N("MAJID", "مجید", 4),
    N("DARIUSH", "داریوش", 3), N("BAHRAM", "بهرام", 2), N("FARHAD", "فرهاد", 4),
    N("AHMAD", "احمد", 6),
};
static const pm__name_t pers_f[] = {
    N("FATEMEH", "فاطمه", 12), N("ZAHRA", "زهرا", 12), N("MARYAM", "مریم", 9),
    N("SARA", "سارا", 6), N("NARGES", "نرگس", 5), N("LEILA", "لیلا", 5), N("SHIRIN", "شیرین", 4),
    N("MINA", "مینا", 4), N("PARISA", "پریسا", 4), N("NAZANIN", "نازنین", 4),
    N("AZADEH", "آزاده", 3), N("ELHAM", "الهام", 4),
};
static const pm__name_t pers_s[] = {
    N("MOHAMMADI", "محمدی", 10), N("HOSSEINI", "حسینی", 9), N("AHMADI", "احمدی", 8),
    N("REZAEI", "رضایی", 7), N("KARIMI", "کریمی", 6), N("MOUSAVI", "موسوی", 6),
    N("JAFARI", "جعفری", 6), N("RAHIMI", "رحیمی", 5), N("SADEGHI", "صادقی", 5),
    N("KAZEMI", "کاظمی", 5), N("HASHEMI", "هاشمی", 5), N("NOORI", "نوری", 4),
    N("GHASEMI", "قاسمی", 4), N("AKBARI", "اکبری", 4), N("TAHERI", "طاهری", 3),
    N("AZIZI", "عزیزی", 4), N("HEIDARI", "حیدری", 4), N("YOUSEFI", "یوسفی", 4),
};

/* ---------------- turkish ---------------- */
static const pm__name_t turk_m[] = {
    L("MEHMET", 15), L("MUSTAFA", 12), L("AHMET", 10), L("ALI", 8),
    N("HUSEYIN", "Hüseyin", 8), L("HASAN", 7), N("IBRAHIM", "İbrahim", 6),
    N("ISMAIL", "İsmail", 5), L("OSMAN", 5), L("YUSUF", 6), L("MURAT", 7),
    N("OMER", "Ömer", 5), L("EMRE", 6), L("BURAK", 5), L("CAN", 4), L("KEREM", 3),
};
static const pm__name_t turk_f[] = {
    L("FATMA", 12), N("AYSE", "Ayşe", 10), L("EMINE", 8), L("HATICE", 7), L("ZEYNEP", 8),
    L("ELIF", 8), L("MERYEM", 5), N("SERIFE", "Şerife", 3), L("ZEHRA", 5), L("SULTAN", 4),
    N("HULYA", "Hülya", 4), L("ESRA", 5), N("BUSRA", "Büşra", 4), L("MERVE", 5),
};
static const pm__name_t turk_s[] = {
    N("YILMAZ", "Yılmaz", 20), L("KAYA", 15), L("DEMIR", 15), N("SAHIN", "Şahin", 12),
    N("CELIK", "Çelik", 12), N("YILDIZ", "Yıldız", 11), N("YILDIRIM", "Yıldırım", 10),
    N("OZTURK", "Öztürk", 10), N("AYDIN", "Aydın", 9), N("OZDEMIR", "Özdemir", 9),
    L("ARSLAN", 8), N("DOGAN", "Doğan", 8), N("KILIC", "Kılıç", 7), L("ASLAN", 7),
    N("CETIN", "Çetin", 6), L("KARA", 6), N("KOC", "Koç", 6), L("KURT", 6),
    N("OZKAN", "Özkan", 5), N("SIMSEK", "Şimşek", 5),
};

/* ---------------- chinese (Han, Hanyu Pinyin) ---------------- */
static const pm__name_t chin_m[] = {
    N("WEI", "伟", 10), N("QIANG", "强", 6), N("LEI", "磊", 6), N("JUN", "军", 6),
    N("YANG", "洋", 5), N("YONG", "勇", 5), N("JIE", "杰", 6), N("TAO", "涛", 5),
    N("MING", "明", 6), N("CHAO", "超", 5), N("HAORAN", "浩然", 4), N("ZIXUAN", "子轩", 4),
    N("JUNJIE", "俊杰", 4), N("JIANHUA", "建华", 4), N("ZHIQIANG", "志强", 4),
    N("WENBO", "文博", 3), N("YUHANG", "宇航", 3), N("XIAOMING", "晓明", 4),
    N("GUOQIANG", "国强", 3), N("JIAHAO", "家豪", 3),
};
static const pm__name_t chin_f[] = {
    N("FANG", "芳", 8), N("NA", "娜", 6), N("MIN", "敏", 6), N("JING", "静", 7), N("LI", "丽", 6),
    N("YAN", "艳", 5), N("TING", "婷", 5), N("XUE", "雪", 4), N("XIUYING", "秀英", 5),
    N("GUIYING", "桂英", 4), N("XIAOYAN", "晓燕", 4), N("XINYI", "欣怡", 4),
    N("ZIHAN", "梓涵", 4), N("YUTONG", "雨桐", 3), N("SIQI", "思琪", 3), N("JIAYI", "佳怡", 3),
    N("LIJUAN", "丽娟", 4), N("YULAN", "玉兰", 3), N("MEILING", "美玲", 3), N("HUIMIN", "慧敏", 3),
};
static const pm__name_t chin_s[] = {
    N("WANG", "王", 70), N("LI", "李", 70), N("ZHANG", "张", 65), N("LIU", "刘", 50),
    N("CHEN", "陈", 45), N("YANG", "杨", 30), N("HUANG", "黄", 25), N("ZHAO", "赵", 22),
    N("WU", "吴", 20), N("ZHOU", "周", 20), N("XU", "徐", 15), N("SUN", "孙", 15),
    N("MA", "马", 12), N("ZHU", "朱", 12), N("HU", "胡", 11), N("GUO", "郭", 10), N("HE", "何", 10),
    N("LIN", "林", 9), N("GAO", "高", 9), N("LUO", "罗", 8), N("ZHENG", "郑", 8),
    N("LIANG", "梁", 7), N("XIE", "谢", 6), N("SONG", "宋", 5), N("TANG", "唐", 5),
    N("XU", "许", 5), N("DENG", "邓", 5), N("FENG", "冯", 4), N("HAN", "韩", 4), N("CAO", "曹", 4),
};

/* ---------------- korean (Hangul, passport romanisation) ---------------- */
static const pm__name_t kor_m[] = {
    N("MINJUN", "민준", 6), N("SEOJUN", "서준", 5), N("DOYUN", "도윤", 5), N("YEJUN", "예준", 4),
    N("SIWOO", "시우", 4), N("HAJUN", "하준", 4), N("JIHO", "지호", 4), N("JUNSEO", "준서", 4),
    N("HYUNWOO", "현우", 5), N("SUNGMIN", "성민", 5), N("DONGHYUN", "동현", 5),
    N("JAEWON", "재원", 4), N("YOUNGSOO", "영수", 4), N("JUNGHO", "정호", 4),
    N("SANGCHEOL", "상철", 3),
};
static const pm__name_t kor_f[] = {
    N("SEOYEON", "서연", 5), N("SEOYUN", "서윤", 5), N("JIWOO", "지우", 4), N("HAEUN", "하은", 4),
    N("MINSEO", "민서", 4), N("JIMIN", "지민", 5), N("SUBIN", "수빈", 4), N("YEEUN", "예은", 4),
    N("JIYOUNG", "지영", 5), N("EUNJI", "은지", 5), N("MIYOUNG", "미영", 4), N("HYEJIN", "혜진", 4),
    N("SUJIN", "수진", 4), N("YOUNGHEE", "영희", 3), N("HYUNJUNG", "현정", 4),
};
static const pm__name_t kor_s[] = {
    N("KIM", "김", 21), N("LEE", "이", 15), N("PARK", "박", 8), N("CHOI", "최", 5),
    N("JUNG", "정", 5), N("KANG", "강", 2), N("CHO", "조", 2), N("YOON", "윤", 2),
    N("JANG", "장", 2), N("LIM", "임", 2), N("HAN", "한", 1), N("OH", "오", 1), N("SEO", "서", 1),
    N("SHIN", "신", 1), N("KWON", "권", 1), N("HWANG", "황", 1), N("AHN", "안", 1),
    N("SONG", "송", 1), N("RYU", "류", 1), N("HONG", "홍", 1),
};

/* ---------------- japanese (Kanji/kana, Hepburn) ---------------- */
static const pm__name_t jap_m[] = {
    N("SHO", "翔", 3), N("DAISUKE", "大輔", 4), N("KENTA", "健太", 4), N("TAKUYA", "拓也", 4),
    N("SHOTA", "翔太", 4), N("NAOKI", "直樹", 4), N("TATSUYA", "達也", 3), N("KAZUYA", "和也", 3),
    N("YUTO", "悠斗", 3), N("REN", "蓮", 3), N("HARUTO", "陽翔", 3), N("MAKOTO", "誠", 3),
    N("HIROSHI", "浩", 4), N("KENICHI", "健一", 3), N("TAKASHI", "隆", 4),
};
static const pm__name_t jap_f[] = {
    N("HINA", "陽菜", 3), N("YUI", "結衣", 4), N("MISAKI", "美咲", 4), N("SAKURA", "さくら", 4),
    N("AI", "愛", 3), N("YUKO", "優子", 4), N("KEIKO", "恵子", 4), N("YUMI", "由美", 4),
    N("MAYUMI", "真由美", 3), N("AKEMI", "明美", 3), N("AYA", "彩", 3), N("HANAKO", "花子", 2),
    N("YUKO", "裕子", 3), N("MIHO", "美穂", 3), N("AOI", "葵", 3),
};
static const pm__name_t jap_s[] = {
    N("SATO", "佐藤", 10), N("SUZUKI", "鈴木", 9), N("TAKAHASHI", "高橋", 8), N("TANAKA", "田中", 8),
    N("ITO", "伊藤", 7), N("WATANABE", "渡辺", 7), N("YAMAMOTO", "山本", 7),
    N("NAKAMURA", "中村", 6), N("KOBAYASHI", "小林", 6), N("KATO", "加藤", 5),
    N("YOSHIDA", "吉田", 5), N("YAMADA", "山田", 5), N("SASAKI", "佐々木", 4),
    N("YAMAGUCHI", "山口", 4), N("MATSUMOTO", "松本", 4), N("INOUE", "井上", 4),
    N("KIMURA", "木村", 4), N("HAYASHI", "林", 3), N("SHIMIZU", "清水", 3), N("SAITO", "斎藤", 3),
};

/* ---------------- vietnamese (Latin with diacritics) ---------------- */
static const pm__name_t viet_m[] = {
    L("MINH", 8), L("ANH", 8), N("HUNG", "Hùng", 6), N("DUNG", "Dũng", 6), N("TUAN", "Tuấn", 6),
    L("QUANG", 5), L("HUY", 6), L("LONG", 5), L("NAM", 6), N("PHUC", "Phúc", 4), L("KHOA", 4),
    N("DUC", "Đức", 5), N("THANH", "Thành", 5), N("BAO", "Bảo", 4),
};
static const pm__name_t viet_f[] = {
    L("LINH", 8), N("HUONG", "Hương", 7), L("LAN", 6), L("MAI", 6), N("NGOC", "Ngọc", 6),
    L("TRANG", 6), N("THAO", "Thảo", 5), N("HA", "Hà", 5), N("PHUONG", "Phương", 5),
    N("THUY", "Thủy", 5), N("HANH", "Hạnh", 4), L("VY", 4),
};
static const pm__name_t viet_s[] = {
    N("NGUYEN", "Nguyễn", 40), N("TRAN", "Trần", 12), N("LE", "Lê", 10), N("PHAM", "Phạm", 7),
    N("HOANG", "Hoàng", 5), N("HUYNH", "Huỳnh", 5), L("PHAN", 4), N("VU", "Vũ", 4),
    N("VO", "Võ", 4), N("DANG", "Đặng", 3), N("BUI", "Bùi", 3), N("DO", "Đỗ", 3),
    N("HO", "Hồ", 3), N("NGO", "Ngô", 2), N("DUONG", "Dương", 2), N("LY", "Lý", 1),
};
static const pm__name_t viet_mid_m[] = {
    N("VAN", "Văn", 10), N("DUC", "Đức", 3), L("MINH", 3), L("QUOC", 2), L("HUU", 2),
};
static const pm__name_t viet_mid_f[] = {
    N("THI", "Thị", 12), N("NGOC", "Ngọc", 3), L("KIM", 2), L("THU", 2),
};

/* ---------------- hindi (Devanagari) ---------------- */
static const pm__name_t hind_m[] = {
    N("RAHUL", "राहुल", 8), N("AMIT", "अमित", 8), N("RAJESH", "राजेश", 7), N("SUNIL", "सुनील", 6),
    N("VIJAY", "विजय", 6), N("ANIL", "अनिल", 6), N("SANJAY", "संजय", 6), N("AJAY", "अजय", 5),
    N("RAVI", "रवि", 6), N("PRAKASH", "प्रकाश", 5), N("ARJUN", "अर्जुन", 5), N("VIKAS", "विकास", 5),
    N("MANOJ", "मनोज", 5), N("DEEPAK", "दीपक", 5), N("ADITYA", "आदित्य", 4), N("KARAN", "करण", 4),
    N("ROHIT", "रोहित", 5), N("SURESH", "सुरेश", 5), N("GAURAV", "गौरव", 4),
    N("HARPREET", "हरप्रीत", 4),
};
static const pm__name_t hind_f[] = {
    N("PRIYA", "प्रिया", 8), N("ANJALI", "अंजलि", 6), N("POOJA", "पूजा", 7), N("NEHA", "नेहा", 7),
    N("SUNITA", "सुनीता", 6), N("KAVITA", "कविता", 5), N("ANITA", "अनीता", 5), N("DIVYA", "दिव्या", 5),
    N("RITA", "रीता", 4), N("SEEMA", "सीमा", 5), N("LAKSHMI", "लक्ष्मी", 5), N("ARTI", "आरती", 4),
    N("MEENA", "मीना", 4), N("SNEHA", "स्नेहा", 4), N("GEETA", "गीता", 4), N("SHREYA", "श्रेया", 4),
};
static const pm__name_t hind_s[] = {
    N("SHARMA", "शर्मा", 15), N("VERMA", "वर्मा", 7), N("GUPTA", "गुप्ता", 9), N("SINGH", "सिंह", 20),
    N("KUMAR", "कुमार", 18), N("PATEL", "पटेल", 16), N("SHAH", "शाह", 7), N("MEHTA", "मेहता", 5),
    N("JOSHI", "जोशी", 5), N("AGARWAL", "अग्रवाल", 4), N("YADAV", "यादव", 5), N("REDDY", "रेड्डी", 6),
    N("NAIR", "नायर", 4), N("RAO", "राव", 5), N("CHAUDHARY", "चौधरी", 4), N("MISHRA", "मिश्रा", 4),
    N("PANDEY", "पांडे", 4), N("BHATT", "भट्ट", 3), N("DESAI", "देसाई", 4), N("GILL", "गिल", 4),
    N("SANDHU", "संधू", 3), N("IYER", "अय्यर", 3), N("MALIK", "मलिक", 3),
};

/* ---------------- south asian muslim (PAK, BGD; Latin) ---------------- */
static const pm__name_t sasm_m[] = {
    L("MUHAMMAD", 40), L("AHMED", 10), L("ALI", 10), L("HASSAN", 6), L("USMAN", 5),
    L("BILAL", 5), L("IMRAN", 6), L("FAISAL", 5), L("TARIQ", 5), L("ASIF", 5), L("KAMRAN", 4),
    L("RIZWAN", 4), L("ABDUL", 8), L("SHAHID", 4), L("ZUBAIR", 3), L("RAHIM", 4), L("RAFIQ", 3),
    L("KAMAL", 3), L("ANWAR", 3),
};
static const pm__name_t sasm_f[] = {
    L("FATIMA", 10), L("AYESHA", 8), L("SANA", 6), L("ZAINAB", 5), L("HINA", 5), L("NADIA", 5),
    L("RABIA", 4), L("SAIMA", 4), L("NASREEN", 4), L("FARHANA", 4), L("SHABNAM", 3),
    L("RUKHSANA", 3), L("MEHWISH", 3), L("SADIA", 4), L("TASLIMA", 3),
};
static const pm__name_t sasm_s[] = {
    L("KHAN", 30), L("AHMED", 15), L("ALI", 12), L("HUSSAIN", 10), L("SHAH", 8), L("MALIK", 8),
    L("BUTT", 5), L("CHAUDHRY", 8), L("QURESHI", 6), L("SHEIKH", 6), L("SIDDIQUI", 5),
    L("IQBAL", 5), L("AKHTAR", 4), L("RAZA", 4), L("RAHMAN", 8), L("ISLAM", 6), L("HOSSAIN", 6),
    L("UDDIN", 5), L("CHOWDHURY", 5), L("MAHMUD", 4), L("KARIM", 3),
};

/* ---------------- filipino ---------------- */
static const pm__name_t fil_m[] = {
    L("JOSE", 8), L("JUAN", 6), L("MARK", 7), L("JOHN", 7), L("MICHAEL", 6), L("CHRISTIAN", 5),
    L("JOSHUA", 5), L("ANGELO", 4), L("CARLO", 4), L("PAOLO", 4), L("RODEL", 3), L("RONALDO", 3),
    L("EDUARDO", 3), L("JEROME", 3), L("ROMEO", 3), L("JOMAR", 2),
};
static const pm__name_t fil_f[] = {
    L("MARIA", 10), L("MARY GRACE", 4), L("KRISTINE", 5), L("JENNIFER", 5), L("ROWENA", 3),
    L("MARITES", 3), L("ANGELICA", 4), L("MARY JOY", 3), L("JOCELYN", 3), L("ROSALIE", 3),
    L("LORNA", 3), L("CRISTINA", 4), L("AILEEN", 3), L("ANALYN", 2),
};
static const pm__name_t fil_s[] = {
    L("SANTOS", 10), L("REYES", 10), L("CRUZ", 8), L("BAUTISTA", 7), L("OCAMPO", 5),
    L("GARCIA", 7), L("MENDOZA", 6), L("TORRES", 5), L("TOMAS", 4), L("ANDRADA", 3),
    L("CASTILLO", 4), L("FLORES", 5), L("VILLANUEVA", 5), L("RAMOS", 5), L("CASTRO", 4),
    L("RIVERA", 4), L("AQUINO", 4), L("NAVARRO", 4), L("SALAZAR", 3), L("MERCADO", 4),
    N("DELA CRUZ", "dela Cruz", 6), N("DE GUZMAN", "de Guzman", 4), L("MANALO", 3),
    L("DIZON", 3), L("PASCUAL", 3), L("SORIANO", 3),
};

/* ---------------- nigerian ---------------- */
static const pm__name_t nig_m[] = {
    L("OLUWASEUN", 4), L("CHINEDU", 5), L("EMEKA", 5), L("TUNDE", 4), L("IBRAHIM", 5),
    L("MUSA", 5), L("ADEBAYO", 4), L("CHUKWUEMEKA", 4), L("OLUMIDE", 3), L("BABATUNDE", 3),
    L("OBINNA", 4), L("UCHE", 3), L("FEMI", 3), L("YUSUF", 4), L("SAMUEL", 5), L("DANIEL", 5),
};
static const pm__name_t nig_f[] = {
    L("NGOZI", 5), L("CHIOMA", 5), L("ADAEZE", 3), L("FUNMILAYO", 3), L("AISHA", 5),
    L("FATIMA", 5), L("BLESSING", 6), L("YETUNDE", 3), L("OLUWAKEMI", 3), L("AMAKA", 4),
    L("NKECHI", 4), L("FOLAKE", 3), L("GRACE", 4), L("ESTHER", 4),
};
static const pm__name_t nig_s[] = {
    L("OKAFOR", 6), L("ADEYEMI", 6), L("OKONKWO", 5), L("EZE", 5), L("OGUNLEYE", 4),
    L("BELLO", 6), L("ABUBAKAR", 6), L("IBRAHIM", 5), L("ADEBAYO", 4), L("NWOSU", 4),
    L("OBI", 4), L("OKEKE", 4), L("BALOGUN", 4), L("OLAWALE", 3), L("MOHAMMED", 5),
    L("USMAN", 4), L("CHUKWU", 3), L("AFOLABI", 3), L("ONYEKA", 3), L("ADELEKE", 3),
};

/* ---------------- hebrew ---------------- */
static const pm__name_t heb_m[] = {
    N("DAVID", "דוד", 8), N("MOSHE", "משה", 6), N("YOSEF", "יוסף", 6), N("AVRAHAM", "אברהם", 4),
    N("YAAKOV", "יעקב", 4), N("DANIEL", "דניאל", 6), N("URI", "אורי", 4), N("NOAM", "נועם", 4),
    N("ITAI", "איתי", 4), N("OMER", "עומר", 4), N("YONATAN", "יונתן", 5), N("ARIEL", "אריאל", 4),
};
static const pm__name_t heb_f[] = {
    N("SARAH", "שרה", 6), N("RACHEL", "רחל", 5), N("MICHAL", "מיכל", 5), N("NOA", "נועה", 6),
    N("TAMAR", "תמר", 5), N("YAEL", "יעל", 5), N("SHIRA", "שירה", 4), N("MAYA", "מאיה", 4),
    N("RIVKA", "רבקה", 3), N("ESTHER", "אסתר", 3),
};
static const pm__name_t heb_s[] = {
    N("COHEN", "כהן", 12), N("LEVI", "לוי", 10), N("MIZRAHI", "מזרחי", 5), N("PERETZ", "פרץ", 4),
    N("BITON", "ביטון", 4), N("DAHAN", "דהן", 4), N("AVRAHAM", "אברהם", 3),
    N("FRIEDMAN", "פרידמן", 4), N("SHAPIRA", "שפירא", 3), N("GOLDBERG", "גולדברג", 3),
    N("AZULAY", "אזולאי", 3), N("KATZ", "כץ", 4), N("MALKA", "מלכה", 3), N("OHAYON", "אוחיון", 2),
};

#define LISTS(m, f, s) m, COUNT(m), f, COUNT(f), s, COUNT(s)

/* id, script, lists, particles, particle%, middle%, second given%, double surname%,
 * patronymic, native joins, dual country. Mid lists (Vietnamese) are handled in
 * person.c through pm__culture_middle. */
static const pm__culture_t cultures[] = {
    {"anglo", "Latin", LISTS(anglo_m, anglo_f, anglo_s), NULL, 0, 0, 62, 0, 0, 0, 0, "GBR"},
    {"french", "Latin", LISTS(french_m, french_f, french_s), NULL, 0, 0, 40, 8, 0, 0, 0, "FRA"},
    {"hispanic", "Latin", LISTS(hisp_m, hisp_f, hisp_s), NULL, 0, 0, 10, 35, 55, 0, 0, "MEX"},
    {"portuguese", "Latin", LISTS(port_m, port_f, port_s), NULL, 0, 0, 10, 30, 40, 0, 0, "PRT"},
    {"german", "Latin", LISTS(german_m, german_f, german_s), NULL, 0, 0, 35, 5, 0, 0, 0, "DEU"},
    {"dutch", "Latin", LISTS(dutch_m, dutch_f, dutch_s), NULL, 0, 0, 40, 5, 0, 0, 0, "NLD"},
    {"italian", "Latin", LISTS(ital_m, ital_f, ital_s), NULL, 0, 0, 20, 5, 0, 0, 0, "ITA"},
    {"polish", "Latin", LISTS(pol_m, pol_f, pol_s), NULL, 0, 0, 25, 0, 0, 0, 0, "POL"},
    {"russian", "Cyrillic", LISTS(rus_m, rus_f, rus_s), NULL, 0, 0, 30, 0, 0, 1, 0, "RUS"},
    {"ukrainian", "Cyrillic", LISTS(ukr_m, ukr_f, ukr_s), NULL, 0, 0, 20, 0, 0, 1, 0, "UKR"},
    {"greek", "Greek", LISTS(greek_m, greek_f, greek_s), NULL, 0, 0, 15, 0, 0, 0, 0, "GRC"},
    {"arabic", "Arabic", LISTS(arab_m, arab_f, arab_s), arab_p, COUNT(arab_p), 30, 40, 0, 0, 2, 0,
     "LBN"},
    {"persian", "Arabic", LISTS(pers_m, pers_f, pers_s), NULL, 0, 0, 10, 0, 0, 0, 0, "IRN"},
    {"turkish", "Latin", LISTS(turk_m, turk_f, turk_s), NULL, 0, 0, 15, 0, 0, 0, 0, "TUR"},
    {"chinese", "Han", LISTS(chin_m, chin_f, chin_s), NULL, 0, 0, 0, 0, 0, 0, 1, "CHN"},
    {"korean", "Hangul", LISTS(kor_m, kor_f, kor_s), NULL, 0, 0, 0, 0, 0, 0, 1, "KOR"},
    {"japanese", "Han", LISTS(jap_m, jap_f, jap_s), NULL, 0, 0, 0, 0, 0, 0, 1, "JPN"},
    {"vietnamese", "Latin", LISTS(viet_m, viet_f, viet_s), NULL, 0, 0, 80, 0, 0, 0, 0, "VNM"},
    {"hindi", "Devanagari", LISTS(hind_m, hind_f, hind_s), NULL, 0, 0, 15, 0, 0, 0, 0, "IND"},
    {"south_asian", "Latin", LISTS(sasm_m, sasm_f, sasm_s), NULL, 0, 0, 35, 0, 0, 0, 0, "PAK"},
    {"filipino", "Latin", LISTS(fil_m, fil_f, fil_s), NULL, 0, 0, 85, 10, 0, 3, 0, "PHL"},
    {"nigerian", "Latin", LISTS(nig_m, nig_f, nig_s), NULL, 0, 0, 45, 0, 0, 0, 0, "NGA"},
    {"hebrew", "Hebrew", LISTS(heb_m, heb_f, heb_s), NULL, 0, 0, 10, 0, 0, 0, 0, "ISR"},
};

/* clang-format on */

const pm__culture_t *pm__culture_find(const char *id)
{
    for (size_t i = 0; i < COUNT(cultures); i++)
        if (strcmp(cultures[i].id, id) == 0) return &cultures[i];
    return NULL;
}

size_t pm__culture_count(void)
{
    return COUNT(cultures);
}

const pm__culture_t *pm__culture_at(size_t i)
{
    return i < COUNT(cultures) ? &cultures[i] : NULL;
}

/* Vietnamese middle names come from their own short lists. */
int pm__culture_middle(const pm__culture_t *c, int female, const pm__name_t **out, size_t *n)
{
    if (strcmp(c->id, "vietnamese") == 0) {
        *out = female ? viet_mid_f : viet_mid_m;
        *n = female ? COUNT(viet_mid_f) : COUNT(viet_mid_m);
        return 1;
    }
    return 0;
}
